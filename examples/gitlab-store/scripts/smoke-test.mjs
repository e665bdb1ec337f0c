// Smoke test: the deployed store answers its health and product routes.
const base = process.env.BASE_URL ?? "http://localhost:9000";
for (const path of ["/health", "/store/products?limit=1"]) {
  const res = await fetch(base + path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
}
