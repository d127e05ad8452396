// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "monitoring-agent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "monitoring-agent", targets: ["monitoring-agent"]),
        .executable(name: "monitoring-server", targets: ["monitoring-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // 4.x imports FoundationEssentials only; 3.x imported all of Foundation (and so ICU).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // No default traits: "FullFoundation" would link all of Foundation (and ICU data, about 37 MB)
        // for a form-decoding feature this agent never uses; "ConfigurationSupport" is unused too.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Already in the graph through Hummingbird; named for NIOHTTPTypes' request/response parts.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // gzip for payloads on the wire (the system's zlib, which NIO's HTTP compression links already).
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        // The server's SQLite store (the system's libsqlite3). Only monitoring-server links it:
        // GRDB imports all of Foundation, which the agent leaves out.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The server's PostgreSQL store for fleets (several receivers on one database).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // bcrypt for the dashboard's users (the C of OpenBSD's bcrypt, nothing else of the package).
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
    ],
    targets: [
        // Pure core: wire model, alerts, signing, /proc parsers, retry policy, configuration. No I/O.
        .target(
            name: "AgentCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Detectors: one protocol, one registry; observations in, typed alerts out. No I/O.
        .target(
            name: "AgentDetect",
            dependencies: ["AgentCore"]
        ),
        // POSIX helpers every module may use: whole-file reads and state writes with errno,
        // line splitting, log tailing, child processes, gzip with a bound on the decoded size.
        .target(
            name: "AgentPlatform",
            dependencies: [
                "AgentCore",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Linux sources: /proc and statvfs readers, host metrics collector and source.
        .target(
            name: "AgentLinux",
            dependencies: ["AgentCore", "AgentPlatform"]
        ),
        // Shipping: HTTP sender, retry execution, bounded buffer, shipper service.
        .target(
            name: "AgentShipping",
            dependencies: [
                "AgentCore", "AgentPlatform",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Docker Engine API over the unix socket: events, logs, exec inspection, reconnection.
        .target(
            name: "AgentDocker",
            dependencies: [
                "AgentCore", "AgentPlatform",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // HTTP servers: the agent's health/metrics endpoints and the verifying receiver.
        .target(
            name: "AgentServer",
            dependencies: [
                "AgentCore", "AgentPlatform",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Wiring: command line, configuration resolution, buildAgent, collector service, demo.
        .target(
            name: "AgentApp",
            dependencies: [
                "AgentCore", "AgentDetect", "AgentPlatform", "AgentLinux", "AgentShipping", "AgentServer", "AgentDocker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Benchmarks: print figures (throughput, recovery time); never asserted in tests.
        .executableTarget(
            name: "agent-bench",
            dependencies: ["AgentCore", "AgentDetect", "AgentPlatform", "AgentLinux", "AgentShipping", "AgentDocker"]
        ),
        // Fuzz targets for every parser of outside bytes: libFuzzer-driven in scripts/fuzz.sh,
        // a replay of saved inputs otherwise (see the target's file).
        .executableTarget(
            name: "agent-fuzz",
            dependencies: ["AgentCore", "AgentDetect", "AgentPlatform"]
        ),
        .executableTarget(
            name: "monitoring-agent",
            dependencies: ["AgentApp"]
        ),
        // The fleet's server: verified payloads into SQLite, retention. Not linked into the agent.
        .target(
            name: "ServerStore",
            dependencies: [
                "AgentCore", "AgentServer",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The fleet's store in PostgreSQL: partitioned by day, group-committed inserts.
        .target(
            name: "ServerPostgres",
            dependencies: [
                "AgentCore", "ServerStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The dashboard: pages rendered on the server from the store's reads, SVG charts, no script;
        // its users' bcrypt hashes checked on NIO's thread pool.
        .target(
            name: "ServerDashboard",
            dependencies: [
                "AgentCore", "AgentServer", "ServerStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "monitoring-server",
            dependencies: [
                "AgentApp", "AgentCore", "AgentServer", "AgentPlatform", "ServerStore", "ServerPostgres", "ServerDashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A load generator for receivers: simulated agents at a fixed rate; prints figures.
        .executableTarget(
            name: "server-loadgen",
            dependencies: [
                "AgentApp", "AgentCore", "AgentPlatform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Helpers shared by the test targets: fixture paths, child processes, peers.
        .target(
            name: "TestSupport",
            dependencies: [
                "AgentCore", "AgentPlatform", "AgentShipping",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "AgentCoreTests",
            dependencies: ["AgentCore", "TestSupport"]
        ),
        .testTarget(
            name: "AgentDetectTests",
            dependencies: ["AgentDetect", "AgentCore", "TestSupport"]
        ),
        .testTarget(
            name: "AgentPlatformTests",
            dependencies: ["AgentPlatform", "AgentCore", "TestSupport"]
        ),
        .testTarget(
            name: "AgentLinuxTests",
            dependencies: ["AgentLinux", "AgentCore", "TestSupport"]
        ),
        .testTarget(
            name: "AgentDockerTests",
            dependencies: [
                "AgentDocker", "AgentCore", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "AgentShippingTests",
            dependencies: [
                "AgentShipping", "AgentCore", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ServerStoreTests",
            dependencies: ["ServerStore", "ServerPostgres", "ServerDashboard", "AgentCore", "AgentServer", "TestSupport",
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "HummingbirdBcrypt", package: "hummingbird-auth")]
        ),
        .testTarget(
            name: "AgentServerTests",
            dependencies: ["AgentServer", "AgentCore", "TestSupport"]
        ),
        .testTarget(
            name: "AgentIntegrationTests",
            dependencies: [
                "AgentApp", "AgentCore", "AgentDetect", "AgentPlatform", "AgentShipping", "AgentServer", "AgentDocker", "TestSupport",
                "ServerStore", "ServerDashboard",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
