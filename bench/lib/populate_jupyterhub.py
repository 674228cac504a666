"""Bulk-add users to a JupyterHub 3.0 sqlite database whose schema JupyterHub itself created.

Each user gets what JupyterHub would have written for someone who once logged in and had a default server: a users
row, the default 'user' role (user_role_map) and a stopped default spawner (spawners, no server). Run as
    python3 populate_jupyterhub.py <database file> <number of users>
and it prints the seconds it took.
"""
import datetime
import sqlite3
import sys
import time
import uuid


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    t0 = time.monotonic()
    con = sqlite3.connect(path)
    # Population is a one-off set-up step: durability does not matter, speed does.
    con.execute('PRAGMA synchronous = OFF')
    con.execute('PRAGMA journal_mode = MEMORY')
    role = con.execute("SELECT id FROM roles WHERE name = 'user'").fetchone()
    if role is None:
        sys.exit(f'{path}: no "user" role; start JupyterHub once on this file to create its schema')
    first = (con.execute('SELECT COALESCE(MAX(id), 0) FROM users').fetchone()[0]) + 1
    now = datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M:%S.%f')
    ids = range(first, first + count)
    with con:
        con.executemany(
            'INSERT INTO users (id, name, admin, created, last_activity, cookie_id) VALUES (?, ?, 0, ?, ?, ?)',
            ((i, f'user{i:07d}', now, now, uuid.uuid4().hex) for i in ids),
        )
        con.executemany('INSERT INTO user_role_map (user_id, role_id) VALUES (?, ?)', ((i, role[0]) for i in ids))
        con.executemany("INSERT INTO spawners (user_id, name) VALUES (?, '')", ((i,) for i in ids))
    con.close()
    print(f'{time.monotonic() - t0:.2f}')


main()
