import { mkdirSync, rmSync } from 'node:fs';

/**
 * The demo's source: a small shop in a SQLite file (customers, products, orders), generated
 * deterministically so every demo moves the same rows. SQLite needs no server, and Ferry reads it.
 */
export const demoTables = { customers: 500, products: 40, orders: 20_000 } as const;

const cities = ['Lisbon', 'Oslo', 'Nairobi', 'Osaka', 'Lima', 'Montréal', 'Tbilisi', 'Hobart'];
const adjectives = ['Sturdy', 'Tiny', 'Blue', 'Quiet', 'Rapid', 'Golden', 'Clever', 'Humble'];
const nouns = ['kettle', 'lamp', 'anchor', 'kite', 'compass', 'lantern', 'rope', 'oar'];

/** Writes the shop to `file`, replacing an earlier one. */
export async function writeDemoSource(dir: string, file: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  rmSync(file, { force: true });
  const { DatabaseSync } = await importSqlite();
  const db = new DatabaseSync(file);
  try {
    db.exec(`create table customers (id integer primary key, name text not null, city text, signed_up text not null);
      create table products (id integer primary key, name text not null, price real not null);
      create table orders (id integer primary key, customer_id integer not null, product_id integer not null,
        quantity integer not null, ordered_at text not null, note text)`);
    db.exec('begin');
    const customer = db.prepare('insert into customers values (?, ?, ?, ?)');
    for (let id = 1; id <= demoTables.customers; id++) {
      customer.run(id, `Customer ${id}`, cities[id % cities.length]!, day(id % 365));
    }
    const product = db.prepare('insert into products values (?, ?, ?)');
    for (let id = 1; id <= demoTables.products; id++) {
      product.run(id, `${adjectives[id % 8]} ${nouns[Math.floor(id / 8) % 8]}`, ((id * 37) % 9000) / 100 + 1);
    }
    const order = db.prepare('insert into orders values (?, ?, ?, ?, ?, ?)');
    for (let id = 1; id <= demoTables.orders; id++) {
      order.run(
        id,
        ((id * 7919) % demoTables.customers) + 1,
        ((id * 104729) % demoTables.products) + 1,
        (id % 5) + 1,
        `${day(id % 365)}T${String(id % 24).padStart(2, '0')}:00:00Z`,
        id % 97 === 0 ? 'gift wrap 🎁' : null,
      );
    }
    db.exec('commit');
  } finally {
    db.close();
  }
}

const day = (offset: number): string => new Date(Date.UTC(2024, 0, 1 + offset)).toISOString().slice(0, 10);

/** node:sqlite prints an ExperimentalWarning on Node 22; the demo's first screen stays clean without it. */
async function importSqlite(): Promise<typeof import('node:sqlite')> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!/SQLite/i.test(text)) Reflect.apply(emitWarning, process, [warning, ...rest]);
  }) as typeof process.emitWarning;
  try {
    return await import('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
}
