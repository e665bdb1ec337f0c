import type { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import Redis from "ioredis"

const redis = new Redis(process.env.REDIS_URL ?? "redis://localhost:6379", { lazyConnect: true })

// GET /health: answers 503 unless both the database and Redis respond.
export async function GET(req: MedusaRequest, res: MedusaResponse) {
  const pg = req.scope.resolve(ContainerRegistrationKeys.PG_CONNECTION)
  const checks = await Promise.allSettled([pg.raw("SELECT 1"), redis.ping()])
  const healthy = checks.every((c) => c.status === "fulfilled")
  res.status(healthy ? 200 : 503).json({ status: healthy ? "ok" : "degraded" })
}
