"""What a learner imports from eventsim works with the real confluent-kafka clients too (no broker needed)."""
import confluent_kafka
import pytest
from confluent_kafka.admin import AdminClient as RealAdminClient

import eventsim
from eventsim.admin import AdminClient, ConfigResource, NewPartitions, NewTopic


def test_topic_partition_is_the_real_clients_class_and_a_real_consumer_accepts_it():
    assert eventsim.TopicPartition is confluent_kafka.TopicPartition
    real = confluent_kafka.Consumer({"bootstrap.servers": "127.0.0.1:1", "group.id": "g"})
    try:
        real.assign([eventsim.TopicPartition("orders", 0, eventsim.OFFSET_BEGINNING)])
        assert [(tp.topic, tp.partition) for tp in real.assignment()] == [("orders", 0)]
    finally:
        real.close()


def test_the_simulator_accepts_the_real_clients_topic_partitions():
    cluster = eventsim.Cluster(brokers=1, seed=0)
    assert cluster.create_topic("orders", 2, 1) is None
    producer = eventsim.Producer({"bootstrap.servers": cluster.bootstrap_servers})
    for i in range(3):
        producer.produce("orders", value=str(i), partition=1)
    producer.flush()
    consumer = eventsim.Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g"})
    consumer.assign([confluent_kafka.TopicPartition("orders", 1, 1)])
    msg = consumer.poll(1.0)
    assert (msg.partition(), msg.offset(), msg.value()) == (1, 1, b"1")
    assert consumer.get_watermark_offsets(confluent_kafka.TopicPartition("orders", 1)) == (0, 3)


def test_admin_requests_are_the_real_clients_classes():
    assert NewTopic is confluent_kafka.admin.NewTopic and NewPartitions is confluent_kafka.admin.NewPartitions
    real = RealAdminClient({"bootstrap.servers": "127.0.0.1:1"})
    futures = real.create_topics([NewTopic("orders", num_partitions=3, replication_factor=1)],
                                 request_timeout=0.1)
    assert set(futures) == {"orders"}        # accepted (it fails later only because no broker answers)


def test_config_resources_are_the_real_clients_class_and_work_on_the_simulator():
    assert ConfigResource is confluent_kafka.admin.ConfigResource
    cluster = eventsim.Cluster(brokers=1, seed=0)
    assert cluster.create_topic("orders", 1, 1, {"retention.ms": "1000"}) is None
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    resource = ConfigResource(ConfigResource.Type.TOPIC, "orders", incremental_configs=[
        confluent_kafka.admin.ConfigEntry("retention.ms", "5000",
                                          incremental_operation=confluent_kafka.admin.AlterConfigOpType.SET)])
    assert admin.incremental_alter_configs([resource])[resource].result() is None
    described = admin.describe_configs([ConfigResource("topic", "orders")])
    assert [f.result()["retention.ms"].value for f in described.values()] == ["5000"]


def test_simulator_errors_are_caught_as_the_real_clients_kafka_exception():
    assert eventsim.KafkaException is confluent_kafka.KafkaException
    with pytest.raises(confluent_kafka.KafkaException) as info:
        eventsim.Producer({"bootstrap.servers": "sim://no-such-cluster"})
    assert info.value.args[0].code() == confluent_kafka.KafkaError._INVALID_ARG
