// classroom-token.js: the classroom pages' code and token.
//
// The links `course classroom start` prints carry the token in the address
// (`/classroom/K7QM4Z?access_token=...`), because a link is what people open. A page that kept
// it there would show it on the projector, in the browser's history and in any bookmark; so
// the page moves it to this tab's storage at once and takes it out of the address bar. A
// reload of the tab still works; another device needs the link again.

/** The join code in this page's path (/classroom/<CODE> or /classroom/<CODE>/me). */
export function pageCode(pathname = location.pathname) {
  const match = /\/classroom\/([^/]+)/.exec(pathname);
  return match ? decodeURIComponent(match[1]).toUpperCase().replace("-", "") : null;
}

/** The token for `code`, from the address (then removed from it) or this tab's storage. */
export function takeToken(code, role, storage = sessionStorage) {
  const key = `classroom:${code}:${role}`;
  const params = new URLSearchParams(location.search);
  const given = params.get("access_token");
  if (given) {
    storage.setItem(key, given);
    params.delete("access_token");
    const rest = params.toString();
    history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}${location.hash}`);
    return given;
  }
  return storage.getItem(key);
}

/** The claims of a token (v1.<payload>.<signature>), read and not verified: the server
 * verifies. The page only needs the subject (the learner's id). */
export function tokenClaims(token) {
  try {
    const payload = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    return JSON.parse(atob(payload + "=".repeat((4 - (payload.length % 4)) % 4)));
  } catch {
    return {};
  }
}

/** "K7QM4Z" -> "K7Q-M4Z", as the projector shows it. */
export const displayCode = (code) => `${code.slice(0, 3)}-${code.slice(3)}`;

/** The server's error message in a refused response, or `fallback`. */
export async function errorMessage(response, fallback) {
  try {
    const body = await response.json();
    return body?.error?.message ?? fallback;
  } catch {
    return fallback;
  }
}
