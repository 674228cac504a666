// Groups and their members.
import type { GroupRecord, Store } from './types.ts';
import { type Db, fromJson, toJson } from './db.ts';
import { checkPage, groupByUser } from './users.ts';

interface GroupRow {
  id: number;
  name: string;
  properties: string;
}

function toRecord(row: GroupRow): GroupRecord {
  return { ...row, properties: fromJson(row.properties, {}) };
}

export function groupsRepo(db: Db): Store['groups'] {
  const get = db.prepare<[string], GroupRow>('SELECT * FROM groups WHERE name = ?');
  const pageAll = db.prepare<[number, number], GroupRow>('SELECT * FROM groups ORDER BY id LIMIT ? OFFSET ?');
  const countAll = db.prepare<[], number>('SELECT COUNT(*) FROM groups').pluck();
  const inNames = 'name IN (SELECT value FROM json_each(?))';
  const pageNames = db.prepare<[string, number, number], GroupRow>(
    `SELECT * FROM groups WHERE ${inNames} ORDER BY id LIMIT ? OFFSET ?`,
  );
  const countNames = db.prepare<[string], number>(`SELECT COUNT(*) FROM groups WHERE ${inNames}`).pluck();
  const insert = db.prepare<[string, string], GroupRow>('INSERT INTO groups (name, properties) VALUES (?, ?) RETURNING *');
  const remove = db.prepare<[number]>('DELETE FROM groups WHERE id = ?');
  const setProperties = db.prepare<[string, number]>('UPDATE groups SET properties = ? WHERE id = ?');
  const addUser = db.prepare<[number, number]>('INSERT OR IGNORE INTO user_group_map (group_id, user_id) VALUES (?, ?)');
  const removeUser = db.prepare<[number, number]>('DELETE FROM user_group_map WHERE group_id = ? AND user_id = ?');
  const memberNames = db.prepare<[number], string>(`
    SELECT u.name FROM user_group_map m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY u.name`).pluck();
  const groupsOfUser = db.prepare<[number], string>(`
    SELECT g.name FROM user_group_map m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name`).pluck();
  const groupsOfUsers = db.prepare<[string], { user_id: number; name: string }>(`
    SELECT m.user_id, g.name FROM user_group_map m JOIN groups g ON g.id = m.group_id
    WHERE m.user_id IN (SELECT value FROM json_each(?)) ORDER BY m.user_id, g.name`);
  const addUsers = db.transaction((groupId: number, userIds: number[]) => {
    for (const userId of userIds) addUser.run(groupId, userId);
  });
  const removeUsers = db.transaction((groupId: number, userIds: number[]) => {
    for (const userId of userIds) removeUser.run(groupId, userId);
  });

  return {
    get(name) {
      const row = get.get(name);
      return row && toRecord(row);
    },
    page(q) {
      checkPage(q);
      if (q.names === undefined) {
        return { items: pageAll.all(q.limit, q.offset).map(toRecord), total: countAll.get()! };
      }
      const names = JSON.stringify(q.names);
      return { items: pageNames.all(names, q.limit, q.offset).map(toRecord), total: countNames.get(names)! };
    },
    create(name, properties = {}) {
      if (typeof name !== 'string' || name === '') throw new Error('group name must be a non-empty string');
      if (get.get(name)) throw new Error(`group ${name} already exists`);
      return toRecord(insert.get(name, toJson(properties))!);
    },
    delete(id) {
      remove.run(id);
    },
    setProperties(id, properties) {
      setProperties.run(toJson(properties), id);
    },
    addUsers(groupId, userIds) {
      addUsers(groupId, userIds);
    },
    removeUsers(groupId, userIds) {
      removeUsers(groupId, userIds);
    },
    memberNames(groupId) {
      return memberNames.all(groupId);
    },
    groupsOfUser(userId) {
      return groupsOfUser.all(userId);
    },
    groupsOfUsers(userIds) {
      return groupByUser(groupsOfUsers.all(JSON.stringify(userIds)));
    },
  };
}
