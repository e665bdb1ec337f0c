import type { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { registry } from "../../lib/metrics"

// GET /metrics: scraped by Prometheus.
export async function GET(_req: MedusaRequest, res: MedusaResponse) {
  res.setHeader("Content-Type", registry.contentType)
  res.send(await registry.metrics())
}
