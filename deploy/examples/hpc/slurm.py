# The seed's batchspawner settings, as written there (batchspawner's trait names and string values), but for
# `#SBATCH --workdir`, spelled `--chdir` since Slurm 17.11 (today's sbatch refuses the old name), and
# `#SBATCH --uid={username}` left out: the job is submitted as the user already (exec_prefix `sudo -E -u {username}`),
# and today's sbatch refuses --uid from anyone but root.
c = get_config()

c.JupyterHub.spawner_class = 'batchspawner.SlurmSpawner'

c.BatchSpawnerBase.req_nprocs = '4'
c.BatchSpawnerBase.req_partition = 'slims'
# the seed wrote '4b', which no Slurm reads as a size (sbatch: "Invalid --mem specification"); 4 GiB was meant
c.BatchSpawnerBase.req_memory = '4G'
c.BatchSpawnerBase.batch_script = """#!/bin/bash
#SBATCH --partition={partition}
#SBATCH --output={homedir}/myjupyterhub_%j.log
#SBATCH --job-name=my_jupyterhub
#SBATCH --chdir={homedir}
#SBATCH --mem={memory}
#SBATCH --reservation=harvard
#SBATCH --export={keepvars}
#SBATCH --get-user-env=L
#SBATCH {options}

module load astro

which jupyterhub-singleuser
JUPYTER_RUNTIME_DIR=$HOME/.jupyter/rt {cmd}
"""
