import * as Sentry from "@sentry/node"
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { ordersPlaced } from "../lib/metrics"

export default async function orderPlaced({ event }: SubscriberArgs<{ id: string }>) {
  try {
    ordersPlaced.inc()
  } catch (err) {
    Sentry.captureException(err, { tags: { orderId: event.data.id } })
  }
}

export const config: SubscriberConfig = { event: "order.placed" }
