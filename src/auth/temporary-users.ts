// Temporary users made ahead of their visitor (the warm pool's): named by the authenticator that mints temporary users,
// stored like any login's user, and removed again if no visitor ever gets them.
import type { Store } from '../store/types.ts';
import type { Authenticator } from './types.ts';

export interface TemporaryUsers {
  create(): Promise<{ id: number; name: string; admin: false }>;
  discard(id: number): Promise<void>;
}

/** The source of temporary users, or null when the authenticator does not mint them (the pool then stays off). */
export function temporaryUsers(store: Store, authenticator: Authenticator): TemporaryUsers | null {
  const mint = authenticator.mintTemporaryName?.bind(authenticator);
  if (!authenticator.capabilities.temporaryUsers || !mint) return null;
  return {
    create: async () => {
      const record = await store.users.create(mint());
      return { id: record.id, name: record.name, admin: false as const };
    },
    discard: (id) => store.users.delete(id),
  };
}
