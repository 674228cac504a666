# The seed's batchspawner settings, as written there (batchspawner's trait names and string values), but for
# `#SBATCH --workdir`, spelled `--chdir` since Slurm 17.11 (today's sbatch refuses the old name).
c = get_config()

c.JupyterHub.spawner_class = 'batchspawner.SlurmSpawner'

c.BatchSpawnerBase.req_nprocs = '4'
c.BatchSpawnerBase.req_partition = 'slims'
c.BatchSpawnerBase.req_memory = '4b'
c.BatchSpawnerBase.batch_script = """#!/bin/bash
#SBATCH --partition={partition}
#SBATCH --output={homedir}/myjupyterhub_%j.log
#SBATCH --job-name=my_jupyterhub
#SBATCH --chdir={homedir}
#SBATCH --mem={memory}
#SBATCH --reservation=harvard
#SBATCH --export={keepvars}
#SBATCH --uid={username}
#SBATCH --get-user-env=L
#SBATCH {options}

module load astro

which jupyterhub-singleuser
JUPYTER_RUNTIME_DIR=$HOME/.jupyter/rt {cmd}
"""
