"""The production topology in a test: nginx with TLS, gateway processes, a Celery worker and beat,
all started from the files in deploy/ (templated paths and ports substituted), so they cannot drift.
"""

import datetime
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gateway.testing import loopback
from gateway.testing.processes import ROOT, GatewayProcess

DEPLOY = ROOT / "deploy"
VENV_PYTHON = "/opt/ai-gateway/.venv/bin/python"


def nginx_available() -> bool:
    return Path("/usr/sbin/nginx").exists()


def env_template() -> dict[str, str]:
    """deploy/env.example as a dict (its change-me secrets included: the caller replaces them)."""
    values = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def unit_command(unit: str, *, instance: str = "", state_dir: Path) -> list[str]:
    """The ExecStart of deploy/systemd/<unit>, with this virtualenv's Python, the instance and a state directory."""
    for line in (DEPLOY / "systemd" / unit).read_text().splitlines():
        if line.startswith("ExecStart="):
            command = line.removeprefix("ExecStart=").replace("%i", instance)
            command = command.replace("/var/lib/ai-gateway", str(state_dir))
            args = shlex.split(command)
            return [sys.executable if a == VENV_PYTHON else a for a in args]
    raise ValueError(f"no ExecStart in {unit}")


def self_signed_certificate(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A throwaway certificate and key for `host` (and 127.0.0.1), made with cryptography."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Nginx:
    """Debian's nginx with deploy/nginx/ai-gateway.conf as its one site, in a private prefix (no root paths)."""

    def __init__(self, directory: Path, *, https_port: int, http_port: int, cert: Path, key: Path, workers: str = "1"):
        self.dir = directory
        self.workers = workers
        self.https_port, self.http_port = https_port, http_port
        self.cert, self.key = cert, key
        self.process: subprocess.Popen | None = None
        self.url = f"https://localhost:{https_port}"
        self.http_url = f"http://localhost:{http_port}"
        for sub in ("logs", "tmp"):
            (directory / sub).mkdir(parents=True, exist_ok=True)

    def render(self, upstreams: list[str]) -> None:
        """Write the site file from the deploy template, with `upstreams` ("127.0.0.1:8001", "… down")."""
        site = (DEPLOY / "nginx" / "ai-gateway.conf").read_text()
        for name, value in {
            "UPSTREAM_SERVERS": "\n".join(f"    server {u} max_fails=1 fail_timeout=2s;" for u in upstreams),
            "HTTPS_PORT": str(self.https_port), "HTTP_PORT": str(self.http_port), "SERVER_NAME": "localhost",
            "TLS_CERT": str(self.cert), "TLS_KEY": str(self.key),
        }.items():
            site = site.replace(f"@@{name}@@", value)
        assert not re.search(r"^[^#]*@@", site, re.M), "a placeholder of deploy/nginx/ai-gateway.conf was not filled in"
        (self.dir / "site.conf").write_text(site)
        tmp = self.dir / "tmp"
        (self.dir / "nginx.conf").write_text(f"""
worker_processes {self.workers};
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {self.dir}/site.conf;
}}
""")

    def nginx(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["/usr/sbin/nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), *args],
                              capture_output=True, text=True, timeout=30)

    def start(self, upstreams: list[str]) -> "Nginx":
        self.render(upstreams)
        checked = self.nginx("-t")
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        self.process = subprocess.Popen(
            ["/usr/sbin/nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                loopback.get(self.http_url + "/", timeout=2)
                return self
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start:\n{self.error_log}")
                time.sleep(0.05)

    def reload(self, upstreams: list[str]) -> None:
        """New upstreams, gracefully (old workers finish their requests), as `systemctl reload nginx` does."""
        self.render(upstreams)
        self.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)  # the new workers take over; the old ones drain

    @property
    def error_log(self) -> str:
        path = self.dir / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class UnitGateway(GatewayProcess):
    """A gateway process started exactly as deploy/systemd/ai-gateway@.service starts it."""

    def __init__(self, env, *, log_path: Path, port: int, state_dir: Path):
        super().__init__(env, log_path=log_path, port=port)
        self.state_dir = state_dir

    def launch(self) -> "UnitGateway":
        command = unit_command("ai-gateway@.service", instance=str(self.port), state_dir=self.state_dir)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self


class UnitProcess:
    """A Celery worker or beat, started from its unit file; stopped with SIGTERM (warm shutdown)."""

    def __init__(self, unit: str, env: dict, *, log_path: Path, state_dir: Path):
        self.command = unit_command(unit, state_dir=state_dir)
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "UnitProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
