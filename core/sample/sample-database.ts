import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The embedded sample database: a small online shop (customers, products, orders, order items, payments,
 * support tickets) with a few thousand rows and dates spread over the two years before it was created.
 * The run command uses it when threadql.yml names no connection, so a fresh clone has something to ask about.
 */

const COUNTRIES = [
  ['DE', 18],
  ['US', 22],
  ['GB', 10],
  ['FR', 9],
  ['NL', 6],
  ['ES', 6],
  ['IT', 5],
  ['SE', 4],
  ['PL', 4],
  ['CA', 5],
  ['JP', 4],
  ['BR', 3],
  ['IN', 3],
  ['AU', 1],
] as const;
const PLANS = [
  ['free', 55],
  ['starter', 25],
  ['pro', 15],
  ['enterprise', 5],
] as const;
const CATEGORIES: Record<string, [string, number][]> = {
  Coffee: [
    ['Ethiopia Yirgacheffe 250g', 1490],
    ['Colombia Huila 250g', 1290],
    ['Espresso Blend 1kg', 3490],
    ['Decaf Swiss Water 250g', 1390],
    ['Kenya AA 250g', 1590],
  ],
  Tea: [
    ['Sencha 100g', 990],
    ['Earl Grey 100g', 890],
    ['Assam Breakfast 250g', 1190],
    ['Jasmine Pearls 50g', 1490],
  ],
  Equipment: [
    ['Pour-over Dripper', 2490],
    ['Burr Grinder', 11900],
    ['Gooseneck Kettle', 5900],
    ['Digital Scale', 3490],
    ['French Press 1l', 3290],
    ['Espresso Tamper', 2990],
  ],
  Accessories: [
    ['Paper Filters (100)', 690],
    ['Travel Mug', 2190],
    ['Cleaning Tablets', 990],
    ['Milk Jug 600ml', 1890],
  ],
  Subscriptions: [
    ['Monthly Coffee Box', 2900],
    ['Quarterly Tea Box', 6900],
  ],
};
const FIRST = [
  'Anna',
  'Ben',
  'Chen',
  'Daria',
  'Emil',
  'Fatima',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
  'Kai',
  'Lea',
  'Marek',
  'Nora',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tara',
  'Umar',
  'Vera',
  'Wen',
  'Yusuf',
  'Zoe',
];
const LAST = [
  'Schmidt',
  'Miller',
  'Garcia',
  'Kowalski',
  'Rossi',
  'Dubois',
  'Jansen',
  'Nakamura',
  'Silva',
  'Patel',
  'Andersson',
  'Brown',
  'Novak',
  'Müller',
  'Kim',
  'Lopez',
];
const TICKET_TOPICS = [
  'shipping delay',
  'damaged item',
  'refund request',
  'billing question',
  'grinder setup',
  'subscription change',
  'wrong item',
];

/** Mulberry32: a tiny seeded PRNG so the sample data is the same on every machine. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weighted<T extends string>(rand: () => number, options: readonly (readonly [T, number])[]): T {
  const total = options.reduce((sum, [, w]) => sum + w, 0);
  let r = rand() * total;
  for (const [value, w] of options) {
    r -= w;
    if (r <= 0) return value;
  }
  return options[options.length - 1]![0];
}

const SCHEMA = `
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  country TEXT NOT NULL,
  plan TEXT NOT NULL CHECK (plan IN ('free','starter','pro','enterprise')),
  signed_up_at TEXT NOT NULL,
  last_login_at TEXT
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  category TEXT NOT NULL,
  price_cents INTEGER NOT NULL CHECK (price_cents > 0),
  active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  ordered_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','paid','shipped','delivered','cancelled','refunded')),
  shipping_country TEXT NOT NULL,
  total_cents INTEGER NOT NULL
);
CREATE TABLE order_items (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  product_id INTEGER NOT NULL REFERENCES products(id),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_cents INTEGER NOT NULL
);
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL UNIQUE REFERENCES orders(id),
  method TEXT NOT NULL,
  amount_cents INTEGER NOT NULL,
  paid_at TEXT NOT NULL
);
CREATE TABLE support_tickets (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  order_id INTEGER REFERENCES orders(id),
  topic TEXT NOT NULL,
  priority TEXT NOT NULL CHECK (priority IN ('low','normal','high')),
  opened_at TEXT NOT NULL,
  closed_at TEXT
);
CREATE INDEX orders_customer_id ON orders(customer_id);
CREATE INDEX orders_ordered_at ON orders(ordered_at);
CREATE INDEX order_items_order_id ON order_items(order_id);
CREATE INDEX order_items_product_id ON order_items(product_id);
CREATE INDEX support_tickets_customer_id ON support_tickets(customer_id);
`;

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Writes the sample database to `path` (atomically, via a temp file), ending at `now`. */
export function createSampleDatabase(path: string, now: Date = new Date()): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  const db = new Database(tmp);
  try {
    db.pragma('journal_mode = DELETE');
    db.exec(SCHEMA);
    const rand = seededRandom(20241201);
    const end = now.getTime();
    const start = end - 730 * DAY;

    const insertProduct = db.prepare(
      'INSERT INTO products (name, category, price_cents, active) VALUES (?, ?, ?, ?)',
    );
    const products: { id: number; price: number }[] = [];
    for (const [category, items] of Object.entries(CATEGORIES)) {
      for (const [name, price] of items) {
        const info = insertProduct.run(name, category, price, rand() < 0.92 ? 1 : 0);
        products.push({ id: Number(info.lastInsertRowid), price });
      }
    }

    const insertCustomer = db.prepare(
      'INSERT INTO customers (name, email, country, plan, signed_up_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertOrder = db.prepare(
      'INSERT INTO orders (customer_id, ordered_at, status, shipping_country, total_cents) VALUES (?, ?, ?, ?, ?)',
    );
    const insertItem = db.prepare(
      'INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)',
    );
    const insertPayment = db.prepare(
      'INSERT INTO payments (order_id, method, amount_cents, paid_at) VALUES (?, ?, ?, ?)',
    );
    const insertTicket = db.prepare(
      'INSERT INTO support_tickets (customer_id, order_id, topic, priority, opened_at, closed_at) VALUES (?, ?, ?, ?, ?, ?)',
    );

    db.transaction(() => {
      for (let c = 1; c <= 1200; c++) {
        // Sign-ups grow over the two years, with a bump every December.
        const t = Math.sqrt(rand());
        let signedUp = start + t * (end - start - DAY);
        if (rand() < 0.08)
          signedUp = Math.min(
            end - DAY,
            signedUp + ((12 - new Date(signedUp).getUTCMonth()) % 12) * 30 * DAY,
          );
        const first = FIRST[Math.floor(rand() * FIRST.length)]!;
        const last = LAST[Math.floor(rand() * LAST.length)]!;
        const country = weighted(rand, COUNTRIES);
        const plan = weighted(rand, PLANS);
        const lastLogin = rand() < 0.1 ? null : iso(signedUp + rand() * (end - signedUp));
        insertCustomer.run(
          `${first} ${last}`,
          `${first}.${last}.${c}@example.com`.toLowerCase().replace('ü', 'ue'),
          country,
          plan,
          iso(signedUp),
          lastLogin,
        );
        const orderCount = Math.floor(rand() * rand() * 9);
        for (let o = 0; o < orderCount; o++) {
          const orderedAt = signedUp + rand() * (end - signedUp);
          const age = (end - orderedAt) / DAY;
          const status =
            age < 2
              ? 'pending'
              : age < 6
                ? weighted(rand, [
                    ['paid', 50],
                    ['shipped', 50],
                  ] as const)
                : weighted(rand, [
                    ['delivered', 86],
                    ['cancelled', 8],
                    ['refunded', 6],
                  ] as const);
          const items = 1 + Math.floor(rand() * 4);
          let total = 0;
          const lines: [number, number, number][] = [];
          for (let i = 0; i < items; i++) {
            const p = products[Math.floor(rand() * products.length)]!;
            const qty = 1 + Math.floor(rand() * rand() * 4);
            lines.push([p.id, qty, p.price]);
            total += qty * p.price;
          }
          const shipTo = rand() < 0.95 ? country : weighted(rand, COUNTRIES);
          const order = Number(insertOrder.run(c, iso(orderedAt), status, shipTo, total).lastInsertRowid);
          for (const [pid, qty, price] of lines) insertItem.run(order, pid, qty, price);
          if (status !== 'pending' && status !== 'cancelled') {
            const method = weighted(rand, [
              ['card', 70],
              ['paypal', 20],
              ['invoice', 10],
            ] as const);
            insertPayment.run(order, method, total, iso(orderedAt + rand() * 3_600_000));
          }
          if (rand() < 0.07) {
            const opened = orderedAt + rand() * 10 * DAY;
            if (opened < end) {
              const closed = rand() < 0.85 ? Math.min(end, opened + rand() * 6 * DAY) : null;
              insertTicket.run(
                c,
                order,
                TICKET_TOPICS[Math.floor(rand() * TICKET_TOPICS.length)],
                weighted(rand, [
                  ['low', 30],
                  ['normal', 55],
                  ['high', 15],
                ] as const),
                iso(opened),
                closed === null ? null : iso(closed),
              );
            }
          }
        }
      }
    })();
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
  renameSync(tmp, path);
}

/** Creates the sample database at `path` unless it already exists; returns the path. */
export async function ensureSampleDatabase(path: string): Promise<string> {
  if (!existsSync(path)) createSampleDatabase(path);
  return path;
}
