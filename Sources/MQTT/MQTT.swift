// MQTT: the MQTT 3.1.1 subset QuakeWarn's forwarder needs (QoS 1 publish), on SwiftNIO.
