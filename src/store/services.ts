// Services from the configuration (JupyterHub.services); their tokens and roles go with them when removed.
import type { ServiceRecord, Store } from './types.ts';
import type { Db } from './db.ts';

interface ServiceRow {
  id: number;
  name: string;
  admin: number;
}

function toRecord(row: ServiceRow): ServiceRecord {
  return { ...row, admin: row.admin === 1 };
}

export function servicesRepo(db: Db): Store['services'] {
  const upsert = db.prepare<[string, number], ServiceRow>(`
    INSERT INTO services (name, admin) VALUES (?, ?)
    ON CONFLICT (name) DO UPDATE SET admin = excluded.admin RETURNING *`);
  const get = db.prepare<[string], ServiceRow>('SELECT * FROM services WHERE name = ?');
  const getById = db.prepare<[number], ServiceRow>('SELECT * FROM services WHERE id = ?');
  const list = db.prepare<[], ServiceRow>('SELECT * FROM services ORDER BY name');
  const deleteExcept = db.prepare<[string]>('DELETE FROM services WHERE name NOT IN (SELECT value FROM json_each(?))');

  return {
    upsert(name, admin) {
      if (typeof name !== 'string' || name === '') throw new Error('service name must be a non-empty string');
      return toRecord(upsert.get(name, admin ? 1 : 0)!);
    },
    get(name) {
      const row = get.get(name);
      return row && toRecord(row);
    },
    getById(id) {
      const row = getById.get(id);
      return row && toRecord(row);
    },
    list() {
      return list.all().map(toRecord);
    },
    deleteExcept(names) {
      deleteExcept.run(JSON.stringify(names));
    },
  };
}
