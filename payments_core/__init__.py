"""What the platform's services share: the event contract, settings, database models and Kafka helpers."""
