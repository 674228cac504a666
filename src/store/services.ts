// Services from the configuration (JupyterHub.services); their tokens and roles go with them when removed.
import type { ServiceRecord, Store } from './types.ts';
import { type Exec, stmt } from './sql.ts';

interface ServiceRow {
  id: number;
  name: string;
  admin: number;
}

function toRecord(row: ServiceRow): ServiceRecord {
  return { ...row, admin: row.admin === 1 };
}

const upsert = stmt('services_upsert', `
  INSERT INTO services (name, admin) VALUES ($1, $2)
  ON CONFLICT (name) DO UPDATE SET admin = excluded.admin RETURNING *`);
const get = stmt('services_get', 'SELECT * FROM services WHERE name = $1');
const getById = stmt('services_get_by_id', 'SELECT * FROM services WHERE id = $1');
const list = stmt('services_list', 'SELECT * FROM services ORDER BY name');
const deleteExcept = stmt('services_delete_except', 'DELETE FROM services WHERE name NOT_IN_LIST($1)');

export function servicesRepo(x: Exec): Store['services'] {
  return {
    async upsert(name, admin) {
      if (typeof name !== 'string' || name === '') throw new Error('service name must be a non-empty string');
      return toRecord((await x.get<ServiceRow>(upsert, [name, admin ? 1 : 0]))!);
    },
    async get(name) {
      const row = await x.get<ServiceRow>(get, [name]);
      return row && toRecord(row);
    },
    async getById(id) {
      const row = await x.get<ServiceRow>(getById, [id]);
      return row && toRecord(row);
    },
    async list() {
      return (await x.all<ServiceRow>(list)).map(toRecord);
    },
    async deleteExcept(names) {
      await x.run(deleteExcept, [names]);
    },
  };
}
