import type { SchemaNames } from '../../core/conversation/message-intent.ts';

/** Table → columns, the way an introspected schema names them. */
type Tables = Record<string, readonly string[]>;

function namesOf(tables: Tables): SchemaNames {
  return { tables: Object.keys(tables), columns: [...new Set(Object.values(tables).flat())] };
}

/** The embedded sample shop (core/sample/sample-database.ts). */
export const SHOP: SchemaNames = namesOf({
  customers: ['id', 'name', 'email', 'country', 'plan', 'signed_up_at', 'last_login_at'],
  products: ['id', 'name', 'category', 'price_cents', 'active'],
  orders: ['id', 'customer_id', 'ordered_at', 'status', 'shipping_country', 'total_cents'],
  order_items: ['id', 'order_id', 'product_id', 'quantity', 'unit_price_cents'],
  payments: ['id', 'order_id', 'method', 'amount_cents', 'paid_at'],
  support_tickets: ['id', 'customer_id', 'order_id', 'topic', 'priority', 'opened_at', 'closed_at'],
});

/** A Chinook-like music store (the public sample's SQLite edition: plural tables, CamelCase columns). */
export const CHINOOK: SchemaNames = namesOf({
  albums: ['AlbumId', 'Title', 'ArtistId'],
  artists: ['ArtistId', 'Name'],
  tracks: [
    'TrackId',
    'Name',
    'AlbumId',
    'MediaTypeId',
    'GenreId',
    'Composer',
    'Milliseconds',
    'Bytes',
    'UnitPrice',
  ],
  genres: ['GenreId', 'Name'],
  media_types: ['MediaTypeId', 'Name'],
  playlists: ['PlaylistId', 'Name'],
  playlist_track: ['PlaylistId', 'TrackId'],
  invoices: [
    'InvoiceId',
    'CustomerId',
    'InvoiceDate',
    'BillingAddress',
    'BillingCity',
    'BillingState',
    'BillingCountry',
    'BillingPostalCode',
    'Total',
  ],
  invoice_items: ['InvoiceLineId', 'InvoiceId', 'TrackId', 'UnitPrice', 'Quantity'],
  customers: [
    'CustomerId',
    'FirstName',
    'LastName',
    'Company',
    'Address',
    'City',
    'State',
    'Country',
    'PostalCode',
    'Phone',
    'Fax',
    'Email',
    'SupportRepId',
  ],
  employees: [
    'EmployeeId',
    'LastName',
    'FirstName',
    'Title',
    'ReportsTo',
    'BirthDate',
    'HireDate',
    'Address',
    'City',
    'State',
    'Country',
    'PostalCode',
    'Phone',
    'Fax',
    'Email',
  ],
});
