# Seed 004's hub settings shared by every instance on the submit node (load_subconfig'd by astro.py and
# astro-students.py). Only paths and host names differ from the seed's jupyterhub_config.py; what apache did in front
# of it (TLS, client certificates) is set here instead, and the Slurm part is in slurm.py.
c = get_config()

PRIVATE_IP = '10.0.0.1'          # the submit node's address on the private HPC network
RUN = '/var/lib/nodehub'         # databases and cookie secrets, one of each per hub
PKI = '/etc/pki'                 # the site PKI of the seed (root CA, signing CA, server certificate)

# JupyterHub's default authenticator is PAM, so the seed never named it; nodehub's default is the tmp authenticator of
# an ephemeral hub, so it is named here.
c.JupyterHub.authenticator_class = 'pam'

# apache's SSLCertificateFile / SSLCertificateKeyFile / SSLCACertificateFile + SSLVerifyClient require, in the hub:
# a browser without a certificate from the bundle (root CA + signing CA) gets a 403 page before any page of the hub.
c.JupyterHub.ssl_cert = PKI + '/certs/hub.example.org.crt'
c.JupyterHub.ssl_key = PKI + '/certs/hub.example.org.key'      # mode 0600, or nodehub refuses it
c.JupyterHub.ssl_client_ca = PKI + '/tls/certs/jupyter-bundle.crt'

# The hub's own port, plain HTTP on the private network: batch jobs on compute nodes call the hub API there (they
# have no client certificate for the public port).
c.JupyterHub.hub_ip = PRIVATE_IP

# Servers keep running across a hub restart (systemctl restart nodehub@astro): Slurm jobs are not the hub's children.
c.JupyterHub.cleanup_servers = False

load_subconfig('slurm.py')
