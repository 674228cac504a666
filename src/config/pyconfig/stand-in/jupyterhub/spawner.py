# Spawner classes by the names JupyterHub gives them; only their class path matters to nodehub.


class Spawner:
    pass


class LocalProcessSpawner(Spawner):
    pass


class SimpleLocalProcessSpawner(LocalProcessSpawner):
    pass
