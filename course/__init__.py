"""The course package: the helpers every notebook imports.

One way to do each thing: the notebooks, the server and the tests call these same functions.
"""

__version__ = "0.1.0"
