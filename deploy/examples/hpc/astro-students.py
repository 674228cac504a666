## Example JupyterHub: seed 004's "astro-students" instance, beside astro on the same submit node
c = get_config()
load_subconfig('common.py')

c.JupyterHub.port = 8444
c.JupyterHub.hub_port = 8082

c.JupyterHub.statsd_prefix = 'jupyterhub-astro-students'
c.JupyterHub.cookie_secret_file = '/var/lib/nodehub/jupyterhub-astro-students_cookie_secret'
c.JupyterHub.db_url = 'sqlite:////var/lib/nodehub/jupyterhub-astro-students.sqlite'

c.JupyterHub.base_url = '/astro-students'
c.JupyterHub.proxy_auth_token = 'astro-students-hub'

c.Authenticator.admin_users = {'user1'}
c.Authenticator.whitelist = set(['user1', 'student01', 'student02', 'student03'])
c.JupyterHub.ssl_client_allowed_cns = ['user1', 'student01', 'student02', 'student03']
