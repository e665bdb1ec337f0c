import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client"

export const registry = new Registry()
collectDefaultMetrics({ register: registry })

export const ordersPlaced = new Counter({
  name: "store_orders_placed_total",
  help: "Orders placed through the store API",
  registers: [registry],
})

export const requestDuration = new Histogram({
  name: "http_request_duration_seconds",
  help: "Time spent handling HTTP requests",
  labelNames: ["method", "route", "status_code"],
  registers: [registry],
})
