"""The data generator: synthetic payments published to Kafka at a steady rate, and the sample CSV files."""
