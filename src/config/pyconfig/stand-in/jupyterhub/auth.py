# Authenticator classes by the names JupyterHub gives them; only their class path matters to nodehub.


class Authenticator:
    pass


class LocalAuthenticator(Authenticator):
    pass


class PAMAuthenticator(LocalAuthenticator):
    pass


class DummyAuthenticator(Authenticator):
    pass


class NullAuthenticator(Authenticator):
    pass


class SharedPasswordAuthenticator(Authenticator):
    pass
