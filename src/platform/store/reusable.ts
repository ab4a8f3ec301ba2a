import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Dialect } from './db.js';
import type { DB } from './schema.js';

// Kysely builds an operation tree and compiles it to SQL on every call. On the few statements every request
// runs (the token lookup, the principal insert) that costs more than SQLite takes to run them. A reusable
// statement is compiled once per dialect from a template whose parameters are numbered sentinels, and is then
// run with the caller's values put in the same positions. The SQL text is still Kysely's: quoting and escaping
// are never ours.

const DIALECT = Symbol.for('custos.store.dialect');

/** Marks a Kysely instance (or transaction) with its dialect so reusable statements can find their SQL. */
export function tagDialect<T extends object>(q: T, dialect: Dialect): T {
  Object.defineProperty(q, DIALECT, { value: dialect, enumerable: false });
  return q;
}

function dialectOf(q: object): Dialect | undefined {
  return (q as { [DIALECT]?: Dialect })[DIALECT];
}

const sentinel = (i: number) => `\u0000custos:param:${i}\u0000`;

/** A statement built by `template(db, p0, p1, …)` and re-bound with fresh values on every later call. */
export function reusable<R>(arity: number, template: (db: Kysely<DB>, ...params: any[]) => Compilable<R>) {
  const compiled = new Map<Dialect, { sql: string; order: number[] }>();
  return async (db: Kysely<DB>, ...values: unknown[]): Promise<QueryResult<R>> => {
    const dialect = dialectOf(db);
    // An untagged instance (a tool opening the store its own way) takes the ordinary path.
    if (!dialect) return db.executeQuery(template(db, ...values));
    let entry = compiled.get(dialect);
    if (!entry) {
      const marks = Array.from({ length: arity }, (_, i) => sentinel(i));
      const query = template(db, ...marks).compile();
      const order = query.parameters.map((p) => marks.indexOf(p as string));
      if (order.some((i) => i < 0)) throw new Error('a reusable statement must take every parameter from its arguments');
      entry = { sql: query.sql, order };
      compiled.set(dialect, entry);
    }
    return db.executeQuery(CompiledQuery.raw(entry.sql, entry.order.map((i) => values[i]))) as Promise<QueryResult<R>>;
  };
}

/** A single-row insert of exactly `columns`, reusable. */
export function reusableInsert<T extends keyof DB & string>(table: T, columns: readonly (keyof DB[T] & string)[]) {
  const statement = reusable(columns.length, (db, ...p) => db.insertInto(table).values(Object.fromEntries(columns.map((c, i) => [c, p[i]])) as never));
  return (db: Kysely<DB>, row: DB[T]) => statement(db, ...columns.map((c) => (row as unknown as Record<string, unknown>)[c]));
}
