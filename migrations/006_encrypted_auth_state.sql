-- nodehub schema, version 6: a user's auth state (what the authenticator returned: OAuth tokens, claims), kept only
-- encrypted with JUPYTERHUB_CRYPT_KEY (Fernet tokens, as JupyterHub's users.encrypted_auth_state), so a copy of the
-- database file alone gives no one's tokens away. The older plain auth_state column stays for hubs without the key.
ALTER TABLE users ADD COLUMN encrypted_auth_state TEXT;
