package shop

// DemoCatalogue is the small catalogue `gatehouse demo` seeds: a homeware
// shop with eight articles. Images are SVG files embedded in the binary,
// so the shop works offline.
var DemoCatalogue = []Product{
	{ID: "stoneware-mug", Name: "Stoneware mug", PriceCents: 1800, Image: "mug.svg", Tone: "sand",
		Blurb:       "Hand-glazed, holds a generous 350 ml.",
		Description: "Thrown on the wheel and dipped in a speckled oat glaze, this mug keeps coffee warm through a long morning. Dishwasher safe, 350 ml."},
	{ID: "cast-iron-teapot", Name: "Cast-iron teapot", PriceCents: 6400, Image: "teapot.svg", Tone: "sage",
		Blurb:       "Enamelled inside, with a steel infuser.",
		Description: "A heavy cast-iron pot that holds heat for an hour. The enamelled interior does not rust and the removable infuser takes loose leaves. 800 ml."},
	{ID: "linen-notebook", Name: "Linen notebook", PriceCents: 2200, Image: "notebook.svg", Tone: "sky",
		Blurb:       "A5, 192 dotted pages, lays flat.",
		Description: "Bound in washed linen with a sewn spine that lays flat on the desk. 192 pages of 100 g dotted paper that fountain pens do not bleed through."},
	{ID: "beeswax-candle", Name: "Beeswax candle", PriceCents: 1500, Image: "candle.svg", Tone: "honey",
		Blurb:       "Pure beeswax, burns for 40 hours.",
		Description: "Poured from local beeswax with a cotton wick. It smells faintly of honey, burns clean for about forty hours and comes in a reusable tin."},
	{ID: "terracotta-planter", Name: "Terracotta planter", PriceCents: 2900, Image: "planter.svg", Tone: "clay",
		Blurb:       "Unglazed clay with a drainage saucer.",
		Description: "Breathable, unglazed terracotta that keeps roots healthy, with a matching saucer. 16 cm across: right for a small fern or a herb."},
	{ID: "canvas-tote", Name: "Canvas tote", PriceCents: 2400, Image: "tote.svg", Tone: "mint",
		Blurb:       "Heavy cotton canvas, inside pocket.",
		Description: "Twelve-ounce organic cotton canvas with long handles for the shoulder and an inside pocket for keys. Carries a week of groceries."},
	{ID: "brass-desk-lamp", Name: "Brass desk lamp", PriceCents: 8900, Image: "lamp.svg", Tone: "stone",
		Blurb:       "Adjustable arm, warm LED bulb included.",
		Description: "A solid brass arm that holds any angle, a weighted base and a warm 2700 K LED bulb. The brass darkens gracefully with age."},
	{ID: "wool-throw", Name: "Wool throw", PriceCents: 7500, Image: "throw.svg", Tone: "lilac",
		Blurb:       "Lambswool, 130 × 180 cm, fringed.",
		Description: "Woven from soft lambswool in a herringbone pattern, with a knotted fringe. Warm on the sofa, light enough for a summer evening."},
}
