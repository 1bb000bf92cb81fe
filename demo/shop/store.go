package shop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// Limits of one cart, so that a visitor cannot grow the database without
// bound.
const (
	MaxQuantity  = 99 // of one product in one cart
	MaxCartLines = 50 // distinct products in one cart
)

// Errors of the store that handlers turn into answers.
var (
	ErrNoProduct = errors.New("shop: no such product")
	ErrEmptyCart = errors.New("shop: the cart is empty")
	ErrCartFull  = errors.New("shop: the cart holds too many different products")
	ErrBadQty    = errors.New("shop: quantity out of range")
	ErrNoOrder   = errors.New("shop: no such order")
)

// Product is one article of the catalogue. Prices are in cents.
type Product struct {
	ID          string
	Name        string
	Blurb       string // one line for the catalogue
	Description string
	PriceCents  int64
	Image       string // file name under static/img
	Tone        string // colour of the product card: a CSS class tone-<Tone>
}

// Line is one product in a cart.
type Line struct {
	Product  Product
	Quantity int
}

// Subtotal is the line's price times its quantity, in cents.
func (l Line) Subtotal() int64 { return l.Product.PriceCents * int64(l.Quantity) }

// Cart is what a visitor is about to buy.
type Cart struct {
	Lines []Line
}

// Count is the number of articles in the cart.
func (c Cart) Count() int {
	n := 0
	for _, l := range c.Lines {
		n += l.Quantity
	}
	return n
}

// TotalCents is the sum of the lines.
func (c Cart) TotalCents() int64 {
	var t int64
	for _, l := range c.Lines {
		t += l.Subtotal()
	}
	return t
}

// Order is a checked-out cart. Its lines keep the name and price paid.
type Order struct {
	Number     int64
	UserID     string
	CreatedAt  time.Time
	Lines      []Line
	TotalCents int64
}

// Count is the number of articles in the order.
func (o Order) Count() int { return Cart{Lines: o.Lines}.Count() }

// Owner names whose cart it is: a signed-in user (by Gatehouse user id) or a
// guest (by the random id of the shop's guest cookie).
type Owner string

// UserOwner is the cart of the Gatehouse user with this id.
func UserOwner(userID string) Owner { return Owner("user:" + userID) }

// GuestOwner is the cart of the guest with this cookie id.
func GuestOwner(guestID string) Owner { return Owner("guest:" + guestID) }

// Store keeps the catalogue, carts and orders in a SQLite file, so that a
// cart outlives page loads, server restarts and the sign-in itself. It is
// safe for concurrent use: one connection serialises every statement, which
// is plenty for a demo and keeps SQLite free of SQLITE_BUSY.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

const schema = `
CREATE TABLE IF NOT EXISTS products (
	id TEXT PRIMARY KEY,
	position INTEGER NOT NULL,
	name TEXT NOT NULL,
	blurb TEXT NOT NULL,
	description TEXT NOT NULL,
	price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
	image TEXT NOT NULL,
	tone TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cart_lines (
	owner TEXT NOT NULL,
	product_id TEXT NOT NULL REFERENCES products(id),
	quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
	added_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (owner, product_id)
);
CREATE TABLE IF NOT EXISTS orders (
	number INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	total_cents INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_user ON orders (user_id, number);
CREATE TABLE IF NOT EXISTS order_lines (
	order_number INTEGER NOT NULL REFERENCES orders(number),
	product_id TEXT NOT NULL,
	name TEXT NOT NULL,
	image TEXT NOT NULL,
	tone TEXT NOT NULL,
	price_cents INTEGER NOT NULL,
	quantity INTEGER NOT NULL,
	PRIMARY KEY (order_number, product_id)
);
-- Order numbers start at 1001, like a shop that has been open a while.
INSERT INTO sqlite_sequence (name, seq) SELECT 'orders', 1000
	WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'orders');
`

// OpenStore opens (creating it if needed) the shop's database at path.
func OpenStore(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	dsn := (&url.URL{Scheme: "file", Path: p,
		RawQuery: "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("shop: creating the schema in %s: %w", path, err)
	}
	return &Store{db: db, now: time.Now}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// SeedCatalogue adds the products, or updates those already there.
func (s *Store) SeedCatalogue(ctx context.Context, products []Product) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, p := range products {
		_, err := tx.ExecContext(ctx, `INSERT INTO products (id, position, name, blurb, description, price_cents, image, tone)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET position = excluded.position, name = excluded.name, blurb = excluded.blurb,
				description = excluded.description, price_cents = excluded.price_cents, image = excluded.image, tone = excluded.tone`,
			p.ID, i, p.Name, p.Blurb, p.Description, p.PriceCents, p.Image, p.Tone)
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

const productColumns = `p.id, p.name, p.blurb, p.description, p.price_cents, p.image, p.tone`

func scanProduct(sc interface{ Scan(...any) error }, extra ...any) (Product, error) {
	var p Product
	err := sc.Scan(append([]any{&p.ID, &p.Name, &p.Blurb, &p.Description, &p.PriceCents, &p.Image, &p.Tone}, extra...)...)
	return p, err
}

// Products lists the catalogue in its order.
func (s *Store) Products(ctx context.Context) ([]Product, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+productColumns+` FROM products p ORDER BY p.position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Product returns one product, or ErrNoProduct.
func (s *Store) Product(ctx context.Context, id string) (Product, error) {
	p, err := scanProduct(s.db.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products p WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, ErrNoProduct
	}
	return p, err
}

// Cart returns the owner's cart, oldest line first. A cart nobody has
// filled is empty, not an error.
func (s *Store) Cart(ctx context.Context, owner Owner) (Cart, error) {
	return cartOf(ctx, s.db, owner)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func cartOf(ctx context.Context, q querier, owner Owner) (Cart, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+productColumns+`, c.quantity FROM cart_lines c
		JOIN products p ON p.id = c.product_id WHERE c.owner = ? ORDER BY c.added_at, p.position`, string(owner))
	if err != nil {
		return Cart{}, err
	}
	defer rows.Close()
	var c Cart
	for rows.Next() {
		var l Line
		if l.Product, err = scanProduct(rows, &l.Quantity); err != nil {
			return Cart{}, err
		}
		c.Lines = append(c.Lines, l)
	}
	return c, rows.Err()
}

// Add puts quantity more of a product into the owner's cart (at most
// MaxQuantity of it).
func (s *Store) Add(ctx context.Context, owner Owner, productID string, quantity int) (Cart, error) {
	if quantity < 1 || quantity > MaxQuantity {
		return Cart{}, ErrBadQty
	}
	return s.change(ctx, owner, func(tx *sql.Tx, now int64) error {
		if err := s.checkProduct(ctx, tx, productID); err != nil {
			return err
		}
		if err := checkRoom(ctx, tx, owner, productID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO cart_lines (owner, product_id, quantity, added_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (owner, product_id) DO UPDATE SET quantity = min(?, quantity + excluded.quantity), updated_at = excluded.updated_at`,
			string(owner), productID, quantity, now, now, MaxQuantity)
		return err
	})
}

// SetQuantity changes how many of a product the cart holds; 0 removes it.
func (s *Store) SetQuantity(ctx context.Context, owner Owner, productID string, quantity int) (Cart, error) {
	if quantity < 0 || quantity > MaxQuantity {
		return Cart{}, ErrBadQty
	}
	if quantity == 0 {
		return s.Remove(ctx, owner, productID)
	}
	return s.change(ctx, owner, func(tx *sql.Tx, now int64) error {
		if err := s.checkProduct(ctx, tx, productID); err != nil {
			return err
		}
		if err := checkRoom(ctx, tx, owner, productID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO cart_lines (owner, product_id, quantity, added_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (owner, product_id) DO UPDATE SET quantity = excluded.quantity, updated_at = excluded.updated_at`,
			string(owner), productID, quantity, now, now)
		return err
	})
}

// Remove takes a product out of the cart. Removing what is not there is
// not an error: the cart ends up as asked.
func (s *Store) Remove(ctx context.Context, owner Owner, productID string) (Cart, error) {
	return s.change(ctx, owner, func(tx *sql.Tx, now int64) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM cart_lines WHERE owner = ? AND product_id = ?`, string(owner), productID)
		return err
	})
}

// Merge moves every line of the guest's cart into the user's cart, adding
// quantities of a product both hold (up to MaxQuantity), and empties the
// guest's cart. Lines beyond MaxCartLines are dropped rather than failing
// the sign-in they come with.
func (s *Store) Merge(ctx context.Context, guest, user Owner) (Cart, error) {
	return s.change(ctx, user, func(tx *sql.Tx, now int64) error {
		guestCart, err := cartOf(ctx, tx, guest)
		if err != nil {
			return err
		}
		for _, l := range guestCart.Lines {
			if err := checkRoom(ctx, tx, user, l.Product.ID); errors.Is(err, ErrCartFull) {
				break
			} else if err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO cart_lines (owner, product_id, quantity, added_at, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (owner, product_id) DO UPDATE SET quantity = min(?, quantity + excluded.quantity), updated_at = excluded.updated_at`,
				string(user), l.Product.ID, l.Quantity, now, now, MaxQuantity)
			if err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM cart_lines WHERE owner = ?`, string(guest))
		return err
	})
}

// Checkout turns the user's cart into an order at today's prices and
// empties the cart, in one transaction: a double submit finds the cart
// empty (ErrEmptyCart) rather than ordering twice.
func (s *Store) Checkout(ctx context.Context, userID string) (Order, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Order{}, err
	}
	defer tx.Rollback()
	owner := UserOwner(userID)
	cart, err := cartOf(ctx, tx, owner)
	if err != nil {
		return Order{}, err
	}
	if len(cart.Lines) == 0 {
		return Order{}, ErrEmptyCart
	}
	o := Order{UserID: userID, CreatedAt: s.now().UTC().Truncate(time.Second), Lines: cart.Lines, TotalCents: cart.TotalCents()}
	err = tx.QueryRowContext(ctx, `INSERT INTO orders (user_id, created_at, total_cents) VALUES (?, ?, ?) RETURNING number`,
		userID, o.CreatedAt.Unix(), o.TotalCents).Scan(&o.Number)
	if err != nil {
		return Order{}, err
	}
	for _, l := range cart.Lines {
		_, err := tx.ExecContext(ctx, `INSERT INTO order_lines (order_number, product_id, name, image, tone, price_cents, quantity)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, o.Number, l.Product.ID, l.Product.Name, l.Product.Image, l.Product.Tone, l.Product.PriceCents, l.Quantity)
		if err != nil {
			return Order{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cart_lines WHERE owner = ?`, string(owner)); err != nil {
		return Order{}, err
	}
	return o, tx.Commit()
}

// Orders lists the user's orders, newest first.
func (s *Store) Orders(ctx context.Context, userID string) ([]Order, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT number FROM orders WHERE user_id = ? ORDER BY number DESC LIMIT 100`, userID)
	if err != nil {
		return nil, err
	}
	var numbers []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		numbers = append(numbers, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Order, 0, len(numbers))
	for _, n := range numbers {
		o, err := s.Order(ctx, userID, n)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// Order returns one of the user's orders; another user's order is
// ErrNoOrder, exactly like one that does not exist.
func (s *Store) Order(ctx context.Context, userID string, number int64) (Order, error) {
	o := Order{Number: number, UserID: userID}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT created_at, total_cents FROM orders WHERE number = ? AND user_id = ?`, number, userID).
		Scan(&created, &o.TotalCents)
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, ErrNoOrder
	}
	if err != nil {
		return Order{}, err
	}
	o.CreatedAt = time.Unix(created, 0).UTC()
	rows, err := s.db.QueryContext(ctx, `SELECT product_id, name, image, tone, price_cents, quantity FROM order_lines
		WHERE order_number = ? ORDER BY rowid`, number)
	if err != nil {
		return Order{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var l Line
		if err := rows.Scan(&l.Product.ID, &l.Product.Name, &l.Product.Image, &l.Product.Tone, &l.Product.PriceCents, &l.Quantity); err != nil {
			return Order{}, err
		}
		o.Lines = append(o.Lines, l)
	}
	return o, rows.Err()
}

// DeleteGuestCartsBefore forgets guest carts untouched since t, and
// returns how many lines went.
func (s *Store) DeleteGuestCartsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM cart_lines WHERE owner LIKE 'guest:%' AND owner IN
		(SELECT owner FROM cart_lines GROUP BY owner HAVING max(updated_at) < ?)`, t.UnixNano())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// change runs f in a transaction and returns the owner's cart after it.
func (s *Store) change(ctx context.Context, owner Owner, f func(tx *sql.Tx, now int64) error) (Cart, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Cart{}, err
	}
	defer tx.Rollback()
	if err := f(tx, s.now().UnixNano()); err != nil {
		return Cart{}, err
	}
	c, err := cartOf(ctx, tx, owner)
	if err != nil {
		return Cart{}, err
	}
	return c, tx.Commit()
}

func (s *Store) checkProduct(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM products WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNoProduct
	}
	return err
}

// checkRoom refuses a new line in a cart that already holds MaxCartLines.
func checkRoom(ctx context.Context, tx *sql.Tx, owner Owner, productID string) error {
	var lines, has int
	err := tx.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN product_id = ? THEN 1 END) FROM cart_lines WHERE owner = ?`,
		productID, string(owner)).Scan(&lines, &has)
	if err != nil {
		return err
	}
	if has == 0 && lines >= MaxCartLines {
		return ErrCartFull
	}
	return nil
}
