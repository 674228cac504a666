# Seed 004's jupyterhub_config.py (a university HPC hub: one instance per toolchain, PAM logins, every server a Slurm
# job through batchspawner's SlurmSpawner), with only paths and host names changed, and two fixes the original needs
# on any JupyterHub: `c = get_config()` before the first `c.` line, and the batch script's closing quotes; the three
# settings nodehub does not read yet are commented out, and PAM, JupyterHub's default authenticator, is named.
# `#SBATCH --workdir` is spelled `--chdir` since Slurm 17.11.
c = get_config()

## Example JupyterHub
c.JupyterHub.port = 8000
# nodehub: hub and proxy share JupyterHub.port; hub_port, statsd_prefix and proxy_auth_token are not read yet (a hub
# per port, and no proxy API), so they are commented out.
# c.JupyterHub.hub_port = 8081
c.JupyterHub.ip = '127.0.0.1'   # apache (or nodehub's own TLS) in front, as in the seed

c.JupyterHub.spawner_class = 'batchspawner.SlurmSpawner'
# JupyterHub's default authenticator; nodehub's default is `tmp`, so a config relying on the default must say it
c.JupyterHub.authenticator_class = 'pam'

# c.JupyterHub.statsd_prefix = 'jupyterhub-astro'
c.JupyterHub.cookie_secret_file = '/var/lib/nodehub/jupyterhub-astro_cookie_secret'
c.JupyterHub.db_url = 'sqlite:////var/lib/nodehub/jupyterhub-astro.sqlite'

c.JupyterHub.base_url = '/astro'
# c.JupyterHub.proxy_auth_token = 'astro-hub'

c.BatchSpawnerBase.req_nprocs = '4'
c.BatchSpawnerBase.req_partition = 'slims'
c.BatchSpawnerBase.req_memory = '4G'
c.BatchSpawnerBase.batch_script = """#!/bin/bash
#SBATCH --partition={partition}
#SBATCH --output={homedir}/myjupyterhub_%j.log
#SBATCH --job-name=my_jupyterhub
#SBATCH --chdir={homedir}
#SBATCH --mem={memory}
#SBATCH --export={keepvars}
#SBATCH --uid={username}
#SBATCH --get-user-env=L
#SBATCH {options}

module load astro

which jupyterhub-singleuser
JUPYTER_RUNTIME_DIR=$HOME/.jupyter/rt {cmd}
"""

c.Authenticator.admin_users = {'user1', 'user2'}
c.Authenticator.whitelist = set(['user1', 'user2', 'student01', 'student02'])
