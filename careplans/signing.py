"""Re-confirming the signer's identity at the moment of signing (password or TOTP code).

A signature must be the signer's own act, not that of whoever finds a signed-in screen: the
sign service asks for the account password or a current code of the member's authenticator
app, whichever they give. A TOTP code is accepted once (allauth marks it used).
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP

from careplans.models import SignatureMethod
from ccm.models import User


def confirm_identity(*, user: User, password: str = "", totp_code: str = "") -> str | None:
    """The ``SignatureMethod`` that confirmed ``user``, or None when neither proof holds."""
    code = totp_code.strip().replace(" ", "")
    if code:
        authenticator = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is not None and TOTP(authenticator).validate_code(code):
            return SignatureMethod.TOTP
        return None
    if password and user.is_active and user.check_password(password):
        return SignatureMethod.PASSWORD
    return None
