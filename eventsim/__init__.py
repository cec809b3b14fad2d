"""eventsim: a deterministic, seeded simulation of an Apache Kafka cluster for teaching."""
__version__ = "0.1.0"
