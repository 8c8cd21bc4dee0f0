"""Web application of the stack: answers /health on the port systemd gives it."""
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body = json.dumps({"status": "ok", "secret": os.environ.get("DB_SECRET_NAME", "")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, fmt, *args):
        pass


HTTPServer(("0.0.0.0", int(os.environ.get("APP_PORT", "8080"))), Handler).serve_forever()
