"""Delivery of approved contracts (交机出库): pick, accessory outbound, review, dispatch, swap."""

from application.delivery.handlers import DeliveryService, delivery_summary

__all__ = ["DeliveryService", "delivery_summary"]
