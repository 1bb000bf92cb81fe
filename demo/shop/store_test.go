package shop_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/demo/shop"
)

// openStore opens a shop database in a temporary directory with the demo
// catalogue.
func openStore(t *testing.T) (*shop.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	st, err := shop.OpenStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SeedCatalogue(context.Background(), shop.DemoCatalogue); err != nil {
		t.Fatal(err)
	}
	return st, path
}

// items writes a cart as "product:quantity" lines, in order.
func items(c shop.Cart) []string {
	out := []string{}
	for _, l := range c.Lines {
		out = append(out, fmt.Sprintf("%s:%d", l.Product.ID, l.Quantity))
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCartChanges(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	ada := shop.UserOwner("ada")
	steps := []struct {
		name    string
		do      func() (shop.Cart, error)
		want    []string
		wantErr error
	}{
		{"add a mug", func() (shop.Cart, error) { return st.Add(ctx, ada, "stoneware-mug", 1) }, []string{"stoneware-mug:1"}, nil},
		{"add two candles", func() (shop.Cart, error) { return st.Add(ctx, ada, "beeswax-candle", 2) }, []string{"stoneware-mug:1", "beeswax-candle:2"}, nil},
		{"add another mug", func() (shop.Cart, error) { return st.Add(ctx, ada, "stoneware-mug", 1) }, []string{"stoneware-mug:2", "beeswax-candle:2"}, nil},
		{"set candles to 5", func() (shop.Cart, error) { return st.SetQuantity(ctx, ada, "beeswax-candle", 5) }, []string{"stoneware-mug:2", "beeswax-candle:5"}, nil},
		{"adding beyond the cap stops at 99", func() (shop.Cart, error) { return st.Add(ctx, ada, "beeswax-candle", 99) }, []string{"stoneware-mug:2", "beeswax-candle:99"}, nil},
		{"set mugs to 0 removes them", func() (shop.Cart, error) { return st.SetQuantity(ctx, ada, "stoneware-mug", 0) }, []string{"beeswax-candle:99"}, nil},
		{"remove the candles", func() (shop.Cart, error) { return st.Remove(ctx, ada, "beeswax-candle") }, []string{}, nil},
		{"remove what is not there", func() (shop.Cart, error) { return st.Remove(ctx, ada, "wool-throw") }, []string{}, nil},
		{"unknown product", func() (shop.Cart, error) { return st.Add(ctx, ada, "<script>", 1) }, nil, shop.ErrNoProduct},
		{"quantity 0 is not an add", func() (shop.Cart, error) { return st.Add(ctx, ada, "wool-throw", 0) }, nil, shop.ErrBadQty},
		{"quantity 100", func() (shop.Cart, error) { return st.SetQuantity(ctx, ada, "wool-throw", 100) }, nil, shop.ErrBadQty},
		{"negative quantity", func() (shop.Cart, error) { return st.SetQuantity(ctx, ada, "wool-throw", -1) }, nil, shop.ErrBadQty},
	}
	for _, s := range steps {
		c, err := s.do()
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.wantErr)
		}
		if err == nil && !equal(items(c), s.want) {
			t.Fatalf("%s: cart = %v, want %v", s.name, items(c), s.want)
		}
	}
}

// A cart is in the database: it is there after the store is closed and
// opened again, as after a restart.
func TestCartSurvivesReopening(t *testing.T) {
	ctx := context.Background()
	st, path := openStore(t)
	if _, err := st.Add(ctx, shop.UserOwner("ada"), "linen-notebook", 3); err != nil {
		t.Fatal(err)
	}
	st.Close()
	again, err := shop.OpenStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	c, err := again.Cart(ctx, shop.UserOwner("ada"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := items(c), []string{"linen-notebook:3"}; !equal(got, want) {
		t.Errorf("after reopening, cart = %v, want %v", got, want)
	}
	if c.TotalCents() != 6600 || c.Count() != 3 {
		t.Errorf("total %d cents for %d articles, want 6600 for 3", c.TotalCents(), c.Count())
	}
}

func TestCartsAreSeparate(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	st.Add(ctx, shop.UserOwner("ada"), "stoneware-mug", 1)
	st.Add(ctx, shop.UserOwner("bob"), "wool-throw", 1)
	st.Add(ctx, shop.GuestOwner("xyz"), "canvas-tote", 1)
	for owner, want := range map[shop.Owner][]string{
		shop.UserOwner("ada"):   {"stoneware-mug:1"},
		shop.UserOwner("bob"):   {"wool-throw:1"},
		shop.GuestOwner("xyz"):  {"canvas-tote:1"},
		shop.GuestOwner("ada"):  {}, // a guest id equal to a user id is another cart
		shop.UserOwner("carol"): {},
	} {
		c, err := st.Cart(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		if got := items(c); !equal(got, want) {
			t.Errorf("%s: cart = %v, want %v", owner, got, want)
		}
	}
}

func TestMergeGuestCart(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	guest, user := shop.GuestOwner("g1"), shop.UserOwner("ada")
	st.Add(ctx, user, "cast-iron-teapot", 1)
	st.Add(ctx, user, "stoneware-mug", 98)
	st.Add(ctx, guest, "stoneware-mug", 2)
	st.Add(ctx, guest, "terracotta-planter", 1)

	c, err := st.Merge(ctx, guest, user)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := items(c), []string{"cast-iron-teapot:1", "stoneware-mug:99", "terracotta-planter:1"}; !equal(got, want) {
		t.Errorf("merged cart = %v, want %v (quantities add up to the cap)", got, want)
	}
	g, _ := st.Cart(ctx, guest)
	if len(g.Lines) != 0 {
		t.Errorf("the guest cart still holds %v", items(g))
	}
	// Merging again (a second tab, a retry) changes nothing.
	c, err = st.Merge(ctx, guest, user)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := items(c), []string{"cast-iron-teapot:1", "stoneware-mug:99", "terracotta-planter:1"}; !equal(got, want) {
		t.Errorf("after a second merge, cart = %v, want %v", got, want)
	}
}

func TestCartLineLimit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shop.db")
	st, err := shop.OpenStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var many []shop.Product
	for i := range shop.MaxCartLines + 1 {
		many = append(many, shop.Product{ID: fmt.Sprintf("p%02d", i), Name: "P", PriceCents: 100, Image: "mug.svg", Tone: "sand"})
	}
	if err := st.SeedCatalogue(ctx, many); err != nil {
		t.Fatal(err)
	}
	ada := shop.UserOwner("ada")
	for _, p := range many[:shop.MaxCartLines] {
		if _, err := st.Add(ctx, ada, p.ID, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Add(ctx, ada, many[shop.MaxCartLines].ID, 1); !errors.Is(err, shop.ErrCartFull) {
		t.Errorf("adding line %d: err = %v, want ErrCartFull", shop.MaxCartLines+1, err)
	}
	if _, err := st.Add(ctx, ada, many[0].ID, 1); err != nil {
		t.Errorf("a full cart refuses more of a product it holds: %v", err)
	}
	// A merge into a full cart keeps what fits rather than failing.
	guest := shop.GuestOwner("g")
	st.Add(ctx, guest, many[shop.MaxCartLines].ID, 1)
	if _, err := st.Merge(ctx, guest, ada); err != nil {
		t.Errorf("merging into a full cart: %v", err)
	}
}

func TestCheckout(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	if _, err := st.Checkout(ctx, "ada"); !errors.Is(err, shop.ErrEmptyCart) {
		t.Fatalf("checking out an empty cart: err = %v, want ErrEmptyCart", err)
	}
	st.Add(ctx, shop.UserOwner("ada"), "wool-throw", 2)
	st.Add(ctx, shop.UserOwner("ada"), "beeswax-candle", 1)
	first, err := st.Checkout(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	if first.Number < 1001 || first.TotalCents != 2*7500+1500 || first.Count() != 3 {
		t.Errorf("order = #%d, %d cents, %d articles; want #1001 or later, 16500, 3", first.Number, first.TotalCents, first.Count())
	}
	c, _ := st.Cart(ctx, shop.UserOwner("ada"))
	if len(c.Lines) != 0 {
		t.Errorf("after checkout the cart holds %v", items(c))
	}
	// A double submit finds the cart empty.
	if _, err := st.Checkout(ctx, "ada"); !errors.Is(err, shop.ErrEmptyCart) {
		t.Errorf("second checkout: err = %v, want ErrEmptyCart", err)
	}
	st.Add(ctx, shop.UserOwner("ada"), "linen-notebook", 1)
	second, err := st.Checkout(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	orders, err := st.Orders(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 2 || orders[0].Number != second.Number || orders[1].Number != first.Number {
		t.Fatalf("orders = %+v, want #%d then #%d", orders, second.Number, first.Number)
	}
	if got, want := items(shop.Cart{Lines: orders[1].Lines}), []string{"wool-throw:2", "beeswax-candle:1"}; !equal(got, want) {
		t.Errorf("order lines = %v, want %v", got, want)
	}
	// Another user cannot see it, exactly as if it did not exist.
	if _, err := st.Order(ctx, "bob", first.Number); !errors.Is(err, shop.ErrNoOrder) {
		t.Errorf("bob reading ada's order: err = %v, want ErrNoOrder", err)
	}
	if o, _ := st.Orders(ctx, "bob"); len(o) != 0 {
		t.Errorf("bob's orders = %v", o)
	}
}

func TestForgetOldGuestCarts(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	st.Add(ctx, shop.GuestOwner("old"), "canvas-tote", 1)
	st.Add(ctx, shop.UserOwner("ada"), "canvas-tote", 1)
	time.Sleep(10 * time.Millisecond)
	cut := time.Now()
	st.Add(ctx, shop.GuestOwner("new"), "canvas-tote", 1)
	n, err := st.DeleteGuestCartsBefore(ctx, cut)
	if err != nil || n != 1 {
		t.Fatalf("deleted %d lines (%v), want 1", n, err)
	}
	for owner, want := range map[shop.Owner]int{shop.GuestOwner("old"): 0, shop.GuestOwner("new"): 1, shop.UserOwner("ada"): 1} {
		if c, _ := st.Cart(ctx, owner); len(c.Lines) != want {
			t.Errorf("%s holds %d lines, want %d", owner, len(c.Lines), want)
		}
	}
}
