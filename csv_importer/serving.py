"""Serving the app with waitress, as production does: its own refusal of a body over the limit answers with the
app's page.

waitress refuses a body larger than `max_request_body_size` itself, from the request's headers and before the app
is called (so nothing of it is stored), with a plain-text 413. Here the app writes that answer instead: it is
called with the request's headers and no body, sees a length above MAX_CONTENT_LENGTH, and answers as it does for
any file too large (its page, or JSON to the upload page's script).
"""

from __future__ import annotations

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import RequestEntityTooLarge

__all__ = ["server"]


class _TooLargeByTheApp(WSGITask):
    def execute(self):
        if not isinstance(self.request.error, RequestEntityTooLarge):
            return ErrorTask.execute(self)
        self.set_close_on_finish()  # the rest of the body is never read
        return super().execute()

    def get_environment(self):
        environ = super().get_environment()
        # A chunked body has no length: say it is over the limit, as it is.
        environ["CONTENT_LENGTH"] = str(max(int(environ.get("CONTENT_LENGTH") or 0),
                                            self.channel.server.adj.max_request_body_size + 1))
        return environ


class _Channel(HTTPChannel):
    error_task_class = _TooLargeByTheApp


def server(app: Flask, host: str, port: int, threads: int):
    """A waitress server for `app`, not yet running (`.run()`); `port` 0 takes a free one (`.effective_port`)."""
    max_bytes = app.config["MAX_CONTENT_LENGTH"]
    served = create_server(app, host=host, port=port, threads=threads,
                           max_request_body_size=max_bytes + 1024 * 1024)  # room for the form around the file
    served.channel_class = _Channel
    return served
