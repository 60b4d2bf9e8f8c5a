"""Extension objects, created unbound and attached in `create_app`."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

# Registers the `pingyi-memory://` rate-limit storage (the single-process default).
from evaluation import rate_limit_storage  # noqa: F401

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# No default limits: each sensitive route declares its own.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()
