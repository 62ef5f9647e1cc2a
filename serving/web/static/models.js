// models.js: the list of served models, kept current without a reload. A model exported into
// the server's folder while it runs is served within about two seconds (docs/MODELS.md); the
// page asks GET /v1/models every few seconds. The server answers with an ETag and
// "Cache-Control: no-cache", so the browser revalidates: an unchanged list is a 304 with no
// body, a few hundred bytes per poll whatever the size of the cards.

export const MODEL_POLL_MS = 3000;

/**
 * Call onChange(models) whenever a model appears or goes, or a model's latest or live version
 * changes (a promote or a rollback: docs/MODELS.md).
 * `current` is the list the page started with; `headers` carry the token that reads it.
 * Returns a function that stops watching.
 */
export function watchModels(current, headers, onChange, every = MODEL_POLL_MS) {
  let known = signature(current);
  const timer = setInterval(async () => {
    if (document.hidden) return; // a background tab catches up when it is shown again
    let models;
    try {
      const response = await fetch("/v1/models", { headers }); // a session token (secured)
      if (!response.ok) return;
      models = (await response.json()).models;
    } catch {
      return; // the server is restarting or unreachable: the connection badge says so
    }
    const seen = signature(models);
    if (seen !== known && models.length) {
      known = seen;
      onChange(models);
    }
  }, every);
  return () => clearInterval(timer);
}

function signature(models) {
  return models.map((model) => `${model.name}@${model.latest}:${model.live}`).join(",");
}
