// Groups and their members.
import type { GroupRecord, Store } from './types.ts';
import { fromJson, isUniqueViolation, toJson } from './db.ts';
import { type Exec, stmt } from './sql.ts';
import { checkPage, groupByUser } from './users.ts';

interface GroupRow {
  id: number;
  name: string;
  properties: string;
}

function toRecord(row: GroupRow): GroupRecord {
  return { ...row, properties: fromJson(row.properties, {}) };
}

const get = stmt('groups_get', 'SELECT * FROM groups WHERE name = $1');
const pageAll = stmt('groups_page', 'SELECT * FROM groups ORDER BY id LIMIT $1 OFFSET $2');
const countAll = stmt('groups_count', 'SELECT COUNT(*) FROM groups');
const pageNames = stmt('groups_page_names', 'SELECT * FROM groups WHERE name IN_LIST($1) ORDER BY id LIMIT $2 OFFSET $3');
const countNames = stmt('groups_count_names', 'SELECT COUNT(*) FROM groups WHERE name IN_LIST($1)');
const insert = stmt('groups_insert', 'INSERT INTO groups (name, properties) VALUES ($1, $2) RETURNING *');
const updateProperties = stmt('groups_set_properties', 'UPDATE groups SET properties = $1 WHERE id = $2 RETURNING *');
const remove = stmt('groups_delete', 'DELETE FROM groups WHERE id = $1');
const addUser = stmt('groups_add_user', 'INSERT INTO user_group_map (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING');
const removeUser = stmt('groups_remove_user', 'DELETE FROM user_group_map WHERE group_id = $1 AND user_id = $2');
const memberNames = stmt('groups_member_names', `
  SELECT u.name FROM user_group_map m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY u.name`);
const groupsOfUser = stmt('groups_of_user', `
  SELECT g.name FROM user_group_map m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name`);
const groupsOfUsers = stmt('groups_of_users', `
  SELECT m.user_id, g.name FROM user_group_map m JOIN groups g ON g.id = m.group_id
  WHERE m.user_id IN_LIST($1) ORDER BY m.user_id, g.name`);

const names = (rows: { name: string }[]) => rows.map((r) => r.name);

export function groupsRepo(x: Exec): Store['groups'] {
  return {
    async get(name) {
      const row = await x.get<GroupRow>(get, [name]);
      return row && toRecord(row);
    },
    async page(q) {
      checkPage(q);
      if (q.names === undefined) {
        return { items: (await x.all<GroupRow>(pageAll, [q.limit, q.offset])).map(toRecord), total: (await x.value<number>(countAll))! };
      }
      return {
        items: (await x.all<GroupRow>(pageNames, [q.names, q.limit, q.offset])).map(toRecord),
        total: (await x.value<number>(countNames, [q.names]))!,
      };
    },
    async create(name, properties = {}) {
      if (typeof name !== 'string' || name === '') throw new Error('group name must be a non-empty string');
      if (await x.get(get, [name])) throw new Error(`group ${name} already exists`);
      const row = await x.get<GroupRow>(insert, [name, toJson(properties)]).catch((err: unknown) => {
        throw isUniqueViolation(err) ? new Error(`group ${name} already exists`) : err;
      });
      return toRecord(row!);
    },
    async setProperties(id, properties) {
      const row = await x.get<GroupRow>(updateProperties, [toJson(properties), id]);
      if (!row) throw new Error(`no group with id ${id}`);
      return toRecord(row);
    },
    async delete(id) {
      await x.run(remove, [id]);
    },
    async addUsers(groupId, userIds) {
      await x.tx(async (t) => {
        for (const userId of userIds) await t.run(addUser, [groupId, userId]);
      });
    },
    async removeUsers(groupId, userIds) {
      await x.tx(async (t) => {
        for (const userId of userIds) await t.run(removeUser, [groupId, userId]);
      });
    },
    async memberNames(groupId) {
      return names(await x.all(memberNames, [groupId]));
    },
    async groupsOfUser(userId) {
      return names(await x.all(groupsOfUser, [userId]));
    },
    async groupsOfUsers(userIds) {
      return groupByUser(await x.all(groupsOfUsers, [userIds]));
    },
  };
}
