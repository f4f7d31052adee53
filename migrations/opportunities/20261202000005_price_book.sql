-- The price book (capability O6, docs/adr/0014-deal-desk-in-opportunities.md): the products
-- the organisation sells, and price lists of dated prices, one currency each.

-- A product. Line items and quotes name it by its code, so the code is unique without regard
-- to case ("line3-robot" and "LINE3-ROBOT" are one product) and never changes; the code's
-- spelling as given is kept for display.
CREATE TABLE products (
    id          uuid PRIMARY KEY,
    code        text        NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    family      text        NOT NULL DEFAULT '',
    unit        text        NOT NULL DEFAULT 'each' CHECK (length(unit) BETWEEN 1 AND 32),
    description text        NOT NULL DEFAULT '',
    -- Retired products are no longer offered; deals and quotes naming them keep them.
    active      boolean     NOT NULL DEFAULT true,
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- Who created it: a create retried with the same id by the same admin returns it.
    created_by  uuid
);
CREATE UNIQUE INDEX products_code ON products (lower(code));
-- The line-item picker lists products by code, usually the active ones of a family.
CREATE INDEX products_family ON products (lower(family), code) WHERE active;

-- A price list in one currency. Names are unique without regard to case, as other catalogue
-- names are, so people can tell lists apart.
CREATE TABLE price_lists (
    id            uuid PRIMARY KEY,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    currency_code text        NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
    description   text        NOT NULL DEFAULT '',
    -- The list deals in its currency take their list prices from. A default list is active:
    -- the service refuses to retire it.
    is_default    boolean     NOT NULL DEFAULT false,
    active        boolean     NOT NULL DEFAULT true,
    version       bigint      NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    created_by    uuid,
    CHECK (active OR NOT is_default)
);
CREATE UNIQUE INDEX price_lists_name ON price_lists (lower(name));
-- At most one default per currency, whatever two admins do at once.
CREATE UNIQUE INDEX price_lists_default ON price_lists (currency_code) WHERE is_default;

-- A product's price in a list from a day on, until the product's next dated price in the
-- list. A price change is a new row, so a quote issued last month keeps reading last month's
-- price; a price set again for the same day replaces that day's row. The amount is in the
-- list's currency (the list's currency never changes).
CREATE TABLE prices (
    price_list_id  uuid        NOT NULL REFERENCES price_lists (id),
    product_id     uuid        NOT NULL REFERENCES products (id),
    effective_from date        NOT NULL,
    unit_price     numeric     NOT NULL CHECK (unit_price >= 0),
    set_at         timestamptz NOT NULL,
    set_by         uuid,
    PRIMARY KEY (price_list_id, product_id, effective_from)
);
-- "Every dated price, newest day first" pages over a list by day.
CREATE INDEX prices_by_day ON prices (price_list_id, effective_from DESC, product_id DESC);
