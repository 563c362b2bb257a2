#!/usr/bin/env python3
"""idp.py: a local OAuth 2.0 identity provider for tests/server/oauth2.test.

It answers on https://127.0.0.1:PORT (a certificate the test made) the way
the real endpoints are documented to:

  Microsoft identity platform, v2.0 (path /TENANT/oauth2/v2.0/...):
    POST token       client_credentials with client_secret, or with a
                     client_assertion (RFC 7523 section 2.2: RS256, x5t or
                     x5t#S256 of the registered certificate, aud = this
                     endpoint, iss = sub = client_id, jti, nbf, exp);
                     refresh_token (a new refresh token every time, the old
                     one kept valid, as Microsoft does);
                     urn:ietf:params:oauth:grant-type:device_code
                     (RFC 8628 section 3.5: authorization_pending,
                     slow_down, expired_token, access_denied)
    POST devicecode  RFC 8628 section 3.1
    GET  /devicelogin?user_code=..&user=..   the person signing in
  Google (paths /token and /o/oauth2/v2/auth):
    POST /token      urn:ietf:params:oauth:grant-type:jwt-bearer (a service
                     account's RS256 JWT: kid, iss, sub, scope, aud, iat,
                     exp at most an hour after iat; domain-wide delegation
                     checked), authorization_code with PKCE S256
                     (RFC 7636), refresh_token
    GET  /o/oauth2/v2/auth   consents at once and redirects (302) to the
                     loopback redirect_uri with code and state
  POST /introspect   RFC 7662 for Dovecot's oauth2 passdb: active, email
  Test control:
    POST /admin/set      form: expires_in=N, rotate=0|1, slow_down=N,
                         device_expires=N, device_interval=N
    POST /admin/revoke   form: what=refresh|access, client_id=ID (all
                         clients when absent)
    GET  /admin/stats    JSON counts of grants, refusals, introspections
    GET  /admin/issued   every token and code it gave out, one a line (for
                         the test's search for secrets in the agent's logs)

Everything it issued is kept in STATE (JSON), rewritten on each change, so
a test can stop the provider and start it again without losing tokens.

Usage: idp.py --config FILE --state FILE --cert PEM --key PEM
              --port-file FILE [--port N] [--log FILE]
The configuration (JSON): {"tenant": "contoso", "users": [...],
  "clients": {ID: {"secret": S | "certificate": PEM-FILE | "public": true,
                   "mailbox": USER (app-only), "redirect": true}},
  "service_accounts": {EMAIL: {"public_key": PEM-FILE, "kid": K,
                               "client_id": N, "scopes": [...]}},
  "expires_in": N}
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

MS_SCOPE_APP = "https://outlook.office365.com/.default"
MS_SCOPE_USER = "https://outlook.office365.com/IMAP.AccessAsUser.All"
GOOGLE_SCOPE = "https://mail.google.com/"
GT_JWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
CA_JWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SKEW = 300

LOCK = threading.RLock()
CONF = {}
STATE = {}
ARGS = None
LOG = None


def log(msg):
    with LOCK:
        LOG.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
        LOG.flush()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def save():
    """STATE to disk, atomically (caller holds LOCK)."""
    tmp = ARGS.state + ".tmp"
    with open(tmp, "w") as f:
        json.dump(STATE, f)
    os.replace(tmp, ARGS.state)


def count(key):
    with LOCK:
        STATE["stats"][key] = STATE["stats"].get(key, 0) + 1
        save()


def issue(owner, scope, client_id, refresh=False):
    """A new access token (and refresh token) for owner."""
    with LOCK:
        life = int(STATE["settings"].get("expires_in",
                                         CONF.get("expires_in", 3600)))
        at = "at-" + secrets.token_urlsafe(24)
        STATE["access"][at] = {"user": owner, "client_id": client_id,
                               "scope": scope, "exp": time.time() + life}
        out = {"token_type": "Bearer", "expires_in": life,
               "ext_expires_in": life, "scope": scope, "access_token": at}
        STATE["issued"].append(at)
        if refresh:
            rt = "rt-" + secrets.token_urlsafe(32)
            STATE["refresh"][rt] = {"user": owner, "client_id": client_id,
                                    "scope": scope, "revoked": False}
            out["refresh_token"] = rt
            STATE["issued"].append(rt)
        save()
    return out


class Refusal(Exception):
    def __init__(self, status, error, desc, code=None):
        Exception.__init__(self, error)
        self.status, self.error, self.desc, self.code = \
            status, error, desc, code


def ms_error(status, error, code, text):
    return Refusal(status, error, "AADSTS%d: %s Trace ID: %s" %
                   (code, text, secrets.token_hex(8)), code)


def jwt_parts(token):
    try:
        h64, c64, s64 = token.split(".")
        head = json.loads(b64url_decode(h64))
        claims = json.loads(b64url_decode(c64))
        sig = b64url_decode(s64)
    except Exception:
        return None
    return head, claims, sig, (h64 + "." + c64).encode()


def rs256_ok(pub, sig, data):
    try:
        pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def check_assertion(cid, assertion, aud):
    """Microsoft: a client assertion (RFC 7523 section 2.2)."""
    cl = CONF["clients"][cid]
    with open(cl["certificate"], "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    parts = jwt_parts(assertion)
    if parts is None:
        raise ms_error(400, "invalid_request", 50027,
                       "JWT token is invalid or malformed.")
    head, claims, sig, data = parts
    if head.get("alg") != "RS256":
        raise ms_error(401, "invalid_client", 5002738,
                       "Invalid JWT token. 'alg' is not supported.")
    s1 = b64url(cert.fingerprint(hashes.SHA1()))
    s256 = b64url(cert.fingerprint(hashes.SHA256()))
    if "x5t" not in head and "x5t#S256" not in head:
        raise ms_error(401, "invalid_client", 700027,
                       "Client assertion contains no certificate thumbprint.")
    if ("x5t" in head and head["x5t"] != s1) or \
            ("x5t#S256" in head and head["x5t#S256"] != s256):
        raise ms_error(401, "invalid_client", 700027,
                       "The certificate with identifier used to sign the "
                       "client assertion is not registered on application.")
    if not rs256_ok(cert.public_key(), sig, data):
        raise ms_error(401, "invalid_client", 700027,
                       "Client assertion failed signature validation.")
    now = time.time()
    for name, want in (("aud", aud), ("iss", cid), ("sub", cid)):
        if claims.get(name) != want:
            raise ms_error(401, "invalid_client", 700021,
                           "Client assertion %s claim is %r, not %r." %
                           (name, claims.get(name), want))
    if not claims.get("jti"):
        raise ms_error(401, "invalid_client", 700022, "No jti claim.")
    if not isinstance(claims.get("exp"), int) or \
            not isinstance(claims.get("nbf"), int) or \
            claims["nbf"] > now + SKEW or claims["exp"] <= now:
        raise ms_error(401, "invalid_client", 700024,
                       "Client assertion is not within its valid time range.")
    with LOCK:
        if claims["jti"] in STATE["jti"]:
            raise ms_error(401, "invalid_client", 700023,
                           "Client assertion was already used (jti).")
        STATE["jti"][claims["jti"]] = claims["exp"]
        save()


def ms_client(cid, form, url):
    """Authenticate a Microsoft client; its configuration."""
    cl = CONF["clients"].get(cid)
    if cl is None:
        raise ms_error(400, "unauthorized_client", 700016,
                       "Application with identifier '%s' was not found in "
                       "the directory '%s'." % (cid, CONF["tenant"]))
    if "secret" in cl:
        if form.get("client_secret") != cl["secret"]:
            raise ms_error(401, "invalid_client", 7000215,
                           "Invalid client secret provided. Ensure the "
                           "secret being sent in the request is the client "
                           "secret value, not the client secret ID, for a "
                           "secret added to app '%s'." % cid)
    elif "certificate" in cl:
        if form.get("client_assertion_type") != CA_JWT:
            raise ms_error(401, "invalid_client", 7000218,
                           "The request body must contain the following "
                           "parameter: 'client_assertion' or "
                           "'client_secret'.")
        check_assertion(cid, form.get("client_assertion", ""), url)
    return cl


def refresh_grant(form, google):
    rt = form.get("refresh_token", "")
    cid = form.get("client_id", "")
    with LOCK:
        entry = STATE["refresh"].get(rt)
    if entry is None or entry["revoked"] or entry["client_id"] != cid:
        if google:
            raise Refusal(400, "invalid_grant",
                          "Token has been expired or revoked.")
        raise ms_error(400, "invalid_grant", 50173,
                       "The provided grant has expired due to it being "
                       "revoked, a fresh auth token is needed.")
    cl = CONF["clients"].get(cid, {})
    if "secret" in cl and form.get("client_secret") != cl["secret"]:
        raise Refusal(401, "invalid_client", "Unauthorized")
    rotate = int(STATE["settings"].get("rotate", 0 if google else 1))
    out = issue(entry["user"], entry["scope"], cid, refresh=bool(rotate))
    count("grant_refresh_token")
    if rotate:
        count("rotated")
    return out


def device_grant(form):
    dc = form.get("device_code", "")
    with LOCK:
        d = STATE["device"].get(dc)
        if d is None:
            raise ms_error(400, "invalid_grant", 70000,
                           "The provided value for 'device_code' is not "
                           "valid.")
        now = time.time()
        last, d["last_poll"] = d.get("last_poll"), now
        d.setdefault("polls", []).append(now)
        save()
    if now > d["expires"]:
        raise ms_error(400, "expired_token", 70020,
                       "The provided value for the input parameter "
                       "'device_code' is not valid. This device code has "
                       "expired.")
    if last is not None and now - last < d["interval"] - 0.5:
        count("too_fast")
        raise Refusal(400, "slow_down", "Polling too fast.")
    with LOCK:
        slow = int(STATE["settings"].get("slow_down", 0))
        if slow > 0 and last is not None:
            # RFC 8628 section 3.5: from now on, 5 s more between polls.
            STATE["settings"]["slow_down"] = slow - 1
            d["interval"] += 5
            save()
            count("slow_down")
            raise Refusal(400, "slow_down", "Polling too fast.")
    if d.get("denied"):
        raise ms_error(400, "access_denied", 70011, "The user declined.")
    if not d.get("user"):
        count("authorization_pending")
        raise ms_error(400, "authorization_pending", 70016,
                       "OAuth 2.0 device flow error. Authorization is "
                       "pending. Continue polling.")
    with LOCK:
        del STATE["device"][dc]
        save()
    count("grant_device_code")
    return issue(d["user"], d["scope"], d["client_id"], refresh=True)


def google_jwt(form, url):
    parts = jwt_parts(form.get("assertion", ""))
    if parts is None:
        raise Refusal(400, "invalid_grant", "Invalid JWT: not a JWT.")
    head, claims, sig, data = parts
    sa = CONF["service_accounts"].get(claims.get("iss"))
    if sa is None:
        raise Refusal(400, "invalid_grant",
                      "Invalid JWT Signature: unknown issuer.")
    if head.get("alg") != "RS256" or \
            ("kid" in head and head["kid"] != sa["kid"]):
        raise Refusal(400, "invalid_grant", "Invalid JWT Signature.")
    with open(sa["public_key"], "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    if not rs256_ok(pub, sig, data):
        raise Refusal(400, "invalid_grant", "Invalid JWT Signature.")
    now = time.time()
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int) or \
            iat > now + SKEW or exp <= now or exp - iat > 3600:
        raise Refusal(400, "invalid_grant",
                      "Invalid JWT: Token must be a short-lived token (60 "
                      "minutes) and in a reasonable timeframe. Check your "
                      "iat and exp values in the JWT claim.")
    if claims.get("aud") != url:
        raise Refusal(400, "invalid_grant",
                      "Invalid JWT: audience %r is not %r." %
                      (claims.get("aud"), url))
    scopes = claims.get("scope", "").split()
    if not scopes or any(s not in sa["scopes"] for s in scopes):
        raise Refusal(401, "unauthorized_client",
                      "Client is unauthorized to retrieve access tokens "
                      "using this method, or client not authorized for any "
                      "of the scopes requested.")
    if claims.get("sub") not in CONF["users"]:
        raise Refusal(400, "invalid_grant", "Invalid email or User ID")
    count("grant_jwt_bearer")
    return issue(claims["sub"], " ".join(scopes), sa["client_id"])


def google_code(form):
    code = form.get("code", "")
    with LOCK:
        c = STATE["codes"].pop(code, None)
        save()
    if c is None:
        raise Refusal(400, "invalid_grant", "Malformed auth code.")
    cl = CONF["clients"].get(form.get("client_id", ""), {})
    if c["client_id"] != form.get("client_id") or \
            form.get("client_secret") != cl.get("secret"):
        raise Refusal(401, "invalid_client", "Unauthorized")
    if form.get("redirect_uri") != c["redirect_uri"]:
        raise Refusal(400, "redirect_uri_mismatch", "Bad Request")
    verifier = form.get("code_verifier", "")
    if b64url(hashlib.sha256(verifier.encode()).digest()) != c["challenge"]:
        raise Refusal(400, "invalid_grant", "Invalid code verifier.")
    count("grant_authorization_code")
    return issue(c["user"], c["scope"], c["client_id"], refresh=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/json", headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def json(self, status, obj):
        self.reply(status, json.dumps(obj))

    def refuse(self, r):
        body = {"error": r.error, "error_description": r.desc}
        if r.code is not None:
            body["error_codes"] = [r.code]
            body["timestamp"] = time.strftime("%Y-%m-%d %H:%M:%SZ",
                                              time.gmtime())
        log("refused %s: %s %s" % (self.path, r.error, r.code or ""))
        count("refused_" + r.error)
        self.json(r.status, body)

    def form(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode()
        if self.headers.get("Content-Type", "").split(";")[0] != \
                "application/x-www-form-urlencoded":
            raise Refusal(400, "invalid_request", "not a form")
        return {k: v[0] for k, v in
                urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

    def base(self):
        return "https://127.0.0.1:%d" % self.server.server_address[1]

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        ms = "/%s/oauth2/v2.0/" % CONF["tenant"]
        try:
            form = self.form()
            if path == ms + "token":
                return self.ms_token(form)
            if path == ms + "devicecode":
                return self.ms_devicecode(form)
            if path == "/token":
                return self.google_token(form)
            if path == "/introspect":
                return self.introspect(form)
            if path.startswith("/admin/"):
                return self.admin(path, form)
            self.reply(404, "{}")
        except Refusal as r:
            self.refuse(r)

    def ms_token(self, form):
        url = self.base() + self.path
        gt = form.get("grant_type")
        log("ms token grant_type=%s client_id=%s" %
            (gt, form.get("client_id")))
        if gt == "client_credentials":
            cl = ms_client(form.get("client_id", ""), form, url)
            if form.get("scope") != MS_SCOPE_APP:
                raise ms_error(400, "invalid_scope", 1002012,
                               "The provided value for scope %s is not "
                               "valid. Client credential flows must have a "
                               "scope value with /.default suffixed to the "
                               "resource identifier." % form.get("scope"))
            count("grant_client_credentials")
            return self.json(200, issue(cl["mailbox"], MS_SCOPE_APP,
                                        form["client_id"]))
        if gt == "refresh_token":
            return self.json(200, refresh_grant(form, False))
        if gt == GT_DEVICE:
            return self.json(200, device_grant(form))
        raise ms_error(400, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type.")

    def ms_devicecode(self, form):
        cid = form.get("client_id", "")
        if cid not in CONF["clients"]:
            raise ms_error(400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found."
                           % cid)
        if "offline_access" not in form.get("scope", "").split():
            log("device code without offline_access")
        dc = "dc-" + secrets.token_urlsafe(24)
        uc = "%s-%s" % (secrets.token_hex(2).upper(),
                        secrets.token_hex(2).upper())
        with LOCK:
            st = STATE["settings"]
            life = int(st.get("device_expires", 900))
            interval = int(st.get("device_interval", 5))
            STATE["issued"].append(dc)
            STATE["device"][dc] = {"user_code": uc, "client_id": cid,
                                   "scope": form.get("scope", ""),
                                   "expires": time.time() + life,
                                   "interval": interval}
            save()
        count("devicecode")
        self.json(200, {"device_code": dc, "user_code": uc,
                        "verification_uri": self.base() + "/devicelogin",
                        "expires_in": life, "interval": interval,
                        "message": "To sign in, use a web browser to open "
                        "the page %s/devicelogin and enter the code %s to "
                        "authenticate." % (self.base(), uc)})

    def google_token(self, form):
        gt = form.get("grant_type")
        log("google token grant_type=%s" % gt)
        if gt == GT_JWT:
            return self.json(200, google_jwt(form, self.base() + "/token"))
        if gt == "authorization_code":
            return self.json(200, google_code(form))
        if gt == "refresh_token":
            return self.json(200, refresh_grant(form, True))
        raise Refusal(400, "unsupported_grant_type",
                      "Invalid grant_type: %s" % gt)

    def introspect(self, form):
        tok = form.get("token", "")
        with LOCK:
            a = STATE["access"].get(tok)
        if a is None or a.get("revoked"):
            count("introspect_unknown")
            return self.json(200, {"active": False})
        if a["exp"] <= time.time():
            count("introspect_expired")
            return self.json(200, {"active": False})
        count("introspect_active")
        self.json(200, {"active": True, "email": a["user"],
                        "client_id": a["client_id"], "scope": a["scope"],
                        "exp": int(a["exp"])})

    def admin(self, path, form):
        with LOCK:
            if path == "/admin/set":
                STATE["settings"].update(form)
            elif path == "/admin/revoke":
                what = STATE["refresh" if form.get("what") == "refresh"
                             else "access"]
                for v in what.values():
                    if form.get("client_id") in (None, v["client_id"]):
                        v["revoked"] = True
            save()
        log("admin %s %s" % (path, form))
        self.json(200, {"ok": True})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
        if u.path == "/admin/stats":
            with LOCK:
                return self.json(200, STATE["stats"])
        if u.path == "/admin/issued":
            with LOCK:
                return self.reply(200, "".join(t + "\n" for t in
                                               STATE["issued"]),
                                  "text/plain")
        if u.path == "/admin/device":
            with LOCK:
                return self.json(200, list(STATE["device"].values()))
        if u.path == "/devicelogin":
            return self.device_login(q)
        if u.path == "/o/oauth2/v2/auth":
            return self.google_auth(q)
        self.reply(404, "{}")

    def device_login(self, q):
        with LOCK:
            for d in STATE["device"].values():
                if d["user_code"] == q.get("user_code"):
                    if q.get("deny"):
                        d["denied"] = True
                    else:
                        d["user"] = q.get("user", CONF["users"][0])
                    save()
                    break
            else:
                return self.reply(400, "unknown code\n", "text/plain")
        log("device login for %s" % q.get("user_code"))
        self.reply(200, "signed in\n", "text/plain")

    def google_auth(self, q):
        cid = q.get("client_id", "")
        redirect = q.get("redirect_uri", "")
        ok = (cid in CONF["clients"] and q.get("response_type") == "code"
              and q.get("code_challenge_method") == "S256"
              and q.get("code_challenge") and q.get("state") is not None
              and redirect.startswith("http://127.0.0.1:")
              and q.get("access_type") == "offline"
              and q.get("scope") == GOOGLE_SCOPE)
        if not ok:
            log("auth refused: %s" % sorted(q.keys()))
            count("auth_refused")
            return self.reply(400, "Error 400: invalid_request\n",
                              "text/plain")
        code = "4/0" + secrets.token_urlsafe(32)
        with LOCK:
            STATE["issued"].append(code)
            STATE["codes"][code] = {
                "client_id": cid, "redirect_uri": redirect,
                "challenge": q["code_challenge"], "scope": q["scope"],
                "user": q.get("login_hint", CONF["users"][0])}
            save()
        count("authorize")
        loc = redirect + "?" + urllib.parse.urlencode(
            {"state": q["state"], "code": code, "scope": q["scope"]})
        self.reply(302, "", "text/plain", (("Location", loc),))


def main():
    global ARGS, CONF, STATE, LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default="/dev/null")
    ARGS = ap.parse_args()
    with open(ARGS.config) as f:
        CONF = json.load(f)
    STATE = {"access": {}, "refresh": {}, "device": {}, "codes": {},
             "jti": {}, "stats": {}, "settings": {}, "issued": []}
    if os.path.exists(ARGS.state):
        with open(ARGS.state) as f:
            STATE.update(json.load(f))
    LOG = open(ARGS.log, "a")
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, ARGS.port_file)
    log("listening on %d" % srv.server_address[1])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
