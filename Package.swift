// swift-tools-version:6.1
// Navette: an offline-first sync service for counsellors' laptops.
//
// Module arrows run one way (docs/architecture.md):
//   NavetteCore  <-  NavetteStore  <-  navette (CLI), NavetteTesting, Tools
//   NavetteCore  <-  NavetteWire   <-  (the server and the client, with the sync release)
import PackageDescription

// Third-party products, named once.
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let structuredFields: Target.Dependency = .product(
    name: "RawStructuredFieldValues", package: "swift-http-structured-headers")

let package = Package(
    name: "navette",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "navette", targets: ["navette"]),
        .executable(name: "navette-datagen", targets: ["navette-datagen"]),
        .library(name: "NavetteCore", targets: ["NavetteCore"]),
        .library(name: "NavetteStore", targets: ["NavetteStore"]),
        .library(name: "NavetteWire", targets: ["NavetteWire"]),
        .library(name: "NavetteTesting", targets: ["NavetteTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-structured-headers", from: "1.7.0"),
    ],
    targets: [
        // MARK: - Libraries (pure -> I/O)
        .target(name: "NavetteCore", dependencies: [crypto]),
        .target(name: "NavetteStore", dependencies: ["NavetteCore", grdb]),
        .target(name: "NavetteWire", dependencies: ["NavetteCore", crypto, structuredFields]),
        .target(name: "NavetteTesting", dependencies: ["NavetteCore", "NavetteStore"]),

        // MARK: - Executables
        .executableTarget(name: "navette", dependencies: ["NavetteCore", "NavetteStore", "NavetteTesting", argumentParser]),
        .executableTarget(
            name: "navette-datagen",
            dependencies: ["NavetteCore", "NavetteTesting", argumentParser],
            path: "Tools/navette-datagen"
        ),

        // MARK: - Tests
        .testTarget(name: "NavetteCoreTests", dependencies: ["NavetteCore", "NavetteTesting"]),
        .testTarget(name: "NavetteWireTests", dependencies: ["NavetteWire", "NavetteCore", crypto]),
        .testTarget(name: "NavetteStoreTests", dependencies: ["NavetteCore", "NavetteStore", "NavetteTesting"]),
        .testTarget(name: "NavetteCLITests", dependencies: ["navette", "navette-datagen", "NavetteCore", "NavetteStore", "NavetteTesting"]),
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
