// Registered hardware addresses (jdbreg): the clients served when registered_clients_only is on.
import type Database from 'better-sqlite3';
import type { WriteStatement, WriteStatements } from './statements';

export class RegisteredRepository {
  private readonly has: Database.Statement<[number, Buffer]>;
  private readonly add: WriteStatement<[number, Buffer]>;
  private readonly remove: WriteStatement<[number, Buffer]>;
  private readonly everything: Database.Statement<[], { htype: number; hwaddr: Buffer }>;

  constructor(db: Database.Database, writes: WriteStatements) {
    this.has = db.prepare('SELECT 1 FROM registered WHERE htype = ? AND hwaddr = ?');
    this.add = writes.prepare('INSERT OR IGNORE INTO registered (htype, hwaddr) VALUES (?, ?)');
    this.remove = writes.prepare('DELETE FROM registered WHERE htype = ? AND hwaddr = ?');
    this.everything = db.prepare('SELECT htype, hwaddr FROM registered ORDER BY htype, hwaddr');
  }

  isRegistered(htype: number, hwaddr: Buffer): boolean {
    return this.has.get(htype, hwaddr) !== undefined;
  }

  register(htype: number, hwaddr: Buffer): boolean {
    return this.add.run(htype, hwaddr).changes > 0;
  }

  unregister(htype: number, hwaddr: Buffer): boolean {
    return this.remove.run(htype, hwaddr).changes > 0;
  }

  all(): Array<{ htype: number; hwaddr: Buffer }> {
    return this.everything.all();
  }
}
