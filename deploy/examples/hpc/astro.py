## Example JupyterHub: seed 004's "astro" instance (CMM's AstroInformatics Lab Hub)
c = get_config()
load_subconfig('common.py')

c.JupyterHub.port = 8443           # the seed's apache listened on 443 for every hub; here each hub has its own port
c.JupyterHub.hub_port = 8081

c.JupyterHub.statsd_prefix = 'jupyterhub-astro'
c.JupyterHub.cookie_secret_file = '/var/lib/nodehub/jupyterhub-astro_cookie_secret'
c.JupyterHub.db_url = 'sqlite:////var/lib/nodehub/jupyterhub-astro.sqlite'

c.JupyterHub.base_url = '/astro'
c.JupyterHub.proxy_auth_token = 'astro-hub'

c.Authenticator.admin_users = {'user1', 'user2'}
c.Authenticator.whitelist = set(['user1', 'user2', 'student01', 'student02'])

# The certificate CNs admitted to this hub (the seed: "use the common names of the certificates to control and
# differentiate the access to each jupyterhub"); here the hub's own users, whose certificates carry their login name.
c.JupyterHub.ssl_client_allowed_cns = ['user1', 'user2', 'student01', 'student02']
