"""ironic_lite: a light, asyncio bare-metal provisioning service speaking Ironic's v1 API."""
import warnings

# oslo.messaging imports eventlet through oslo.service (never monkey-patched here); its
# deprecation notice is not actionable for operators.
warnings.filterwarnings('ignore', message='.*Eventlet is deprecated.*')
