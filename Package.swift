// swift-tools-version:6.1
// Navette: an offline-first sync service for counsellors' laptops.
//
// Module arrows run one way (docs/architecture.md):
//   NavetteCore  <-  NavetteStore  <-  navette (CLI), NavetteTesting, Tools
//   NavetteCore  <-  NavetteWire   <-  NavetteServer, NavetteClient (never each other)
//   NavetteClient, NavetteServer  <-  NavetteConformance  <-  navette-conformance
//   NavetteCore, NavetteStore  <-  NavettePostgres (postgres-nio)  <-  navette, navette-bench (never NavetteServer)
import PackageDescription

// Third-party products, named once.
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let sqlite: Target.Dependency = .product(name: "GRDBSQLite", package: "GRDB.swift")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let structuredFields: Target.Dependency = .product(
    name: "RawStructuredFieldValues", package: "swift-http-structured-headers")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTLS: Target.Dependency = .product(name: "HummingbirdTLS", package: "hummingbird")
let asyncHTTPClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")
let compressNIO: Target.Dependency = .product(name: "CompressNIO", package: "compress-nio")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let postgres: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")

let package = Package(
    name: "navette",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "navette", targets: ["navette"]),
        .executable(name: "navette-datagen", targets: ["navette-datagen"]),
        .executable(name: "navette-bench", targets: ["navette-bench"]),
        .executable(name: "navette-conformance", targets: ["navette-conformance"]),
        .executable(name: "chaos", targets: ["chaos"]),
        .library(name: "NavetteCore", targets: ["NavetteCore"]),
        .library(name: "NavetteStore", targets: ["NavetteStore"]),
        .library(name: "NavetteWire", targets: ["NavetteWire"]),
        .library(name: "NavetteTesting", targets: ["NavetteTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-structured-headers", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // MARK: - Libraries (pure -> I/O)
        .target(name: "NavetteCore", dependencies: [crypto]),
        .target(name: "NavetteStore", dependencies: ["NavetteCore", grdb, sqlite, crypto]),
        .target(name: "NavetteWire", dependencies: ["NavetteCore", crypto, structuredFields, compressNIO, nioCore]),
        .target(
            name: "NavetteServer",
            dependencies: [
                "NavetteCore", "NavetteStore", "NavetteWire", crypto, hummingbird, hummingbirdTLS, logging, serviceLifecycle,
                nioCore, nioSSL, httpTypes, prometheus,
            ]
        ),
        .target(
            name: "NavetteClient",
            dependencies: [
                "NavetteCore", "NavetteStore", "NavetteWire", crypto, asyncHTTPClient, logging, nioCore, nioHTTP1, nioSSL,
            ]
        ),
        .target(name: "NavetteTesting", dependencies: ["NavetteCore", "NavetteStore", nioCore, nioPosix]),
        // The server's storage on PostgreSQL (several server processes, one truth).
        .target(name: "NavettePostgres", dependencies: ["NavetteCore", "NavetteStore", postgres, logging]),
        // The protocol's conformance checks and JSON Schema validator (a client
        // of any server; LocalServerAdmin alone opens ours).
        .target(name: "NavetteConformance", dependencies: ["NavetteCore", "NavetteStore", "NavetteWire", "NavetteClient", "NavetteServer", crypto]),

        // MARK: - Executables
        .executableTarget(
            name: "navette",
            dependencies: [
                "NavetteCore", "NavetteStore", "NavetteWire", "NavetteServer", "NavetteClient", "NavetteTesting",
                "NavettePostgres", argumentParser, logging, serviceLifecycle, crypto,
            ]
        ),
        .executableTarget(
            name: "navette-datagen",
            dependencies: ["NavetteCore", "NavetteTesting", argumentParser],
            path: "Tools/navette-datagen"
        ),

        .executableTarget(
            name: "navette-bench",
            dependencies: [
                "NavetteCore", "NavetteStore", "NavetteWire", "NavetteServer", "NavetteClient", "NavetteTesting",
                "NavettePostgres", argumentParser, logging, sqlite, crypto, hummingbird,
            ],
            path: "Tools/navette-bench"
        ),
        .executableTarget(
            name: "chaos",
            dependencies: ["NavetteCore", "NavetteStore", "NavetteServer", "NavetteTesting", argumentParser],
            path: "Tools/chaos"
        ),
        .executableTarget(
            name: "navette-conformance",
            dependencies: ["NavetteConformance", "NavetteServer", "NavetteStore", argumentParser, logging],
            path: "Tools/navette-conformance"
        ),

        // MARK: - Tests
        .testTarget(name: "NavetteCoreTests", dependencies: ["NavetteCore", "NavetteTesting"]),
        .testTarget(name: "NavetteWireTests", dependencies: ["NavetteWire", "NavetteCore", "NavetteTesting", crypto, compressNIO, nioCore]),
        .testTarget(name: "NavetteStoreTests", dependencies: ["NavetteCore", "NavetteStore", "NavetteTesting", grdb, sqlite]),
        .testTarget(
            name: "NavetteSyncTests",
            dependencies: ["NavetteCore", "NavetteStore", "NavetteWire", "NavetteServer", "NavetteClient", "NavetteTesting", "NavetteConformance", "NavettePostgres", crypto, logging, asyncHTTPClient, grdb,
                serviceLifecycle,
            ]
        ),
        .testTarget(name: "NavettePostgresTests", dependencies: ["NavettePostgres", "NavetteCore", "NavetteStore", "NavetteTesting", postgres, logging]),
        .testTarget(name: "NavetteCLITests", dependencies: ["navette", "navette-datagen", "navette-bench", "navette-conformance", "chaos", "NavetteCore", "NavetteStore", "NavetteTesting", "NavettePostgres", postgres, logging]),
    ]
)

// Language settings for every target, in one place.
for target in package.targets where target.type != .plugin {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("MemberImportVisibility"),
            .define("NAVETTE_INTERNAL_CHECKS", .when(configuration: .debug)),
        ]
}
