// swift-tools-version:6.1
import PackageDescription

/// One set of Swift settings for every target (Swift 6 language mode, strict concurrency).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "herald",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "control", targets: ["Control"]),
        .executable(name: "tracker", targets: ["Tracker"]),
        .executable(name: "job-server", targets: ["JobServer"]),
        .executable(name: "mta-sender", targets: ["MTASender"]),
        .executable(name: "bounce-fbl-reader", targets: ["BounceFBLReader"]),
        .executable(name: "herald-bench", targets: ["HeraldBenchmarks"]),
        .library(name: "HeraldContracts", targets: ["Contracts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: [.defaults, "CommandLineArguments"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
    ],
    targets: [
        // MARK: C libraries from Debian
        .systemLibrary(name: "CBSON", path: "Shared/CBSON", pkgConfig: "libbson-1.0", providers: [.apt(["libbson-dev"])]),
        .systemLibrary(name: "CMongoC", path: "Shared/CMongoC", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        .systemLibrary(name: "CRabbitMQ", path: "Shared/CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(name: "CLDAP", path: "Shared/CLDAP", pkgConfig: "ldap", providers: [.apt(["libldap-dev"])]),
        .systemLibrary(name: "CXLSXWriter", path: "Shared/CXLSXWriter", pkgConfig: "xlsxwriter", providers: [.apt(["libxlsxwriter-dev"])]),
        .systemLibrary(name: "CPostgres", path: "Shared/CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMariaDB", path: "Shared/CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .systemLibrary(name: "CResolv", path: "Shared/CResolv"),
        .systemLibrary(name: "CFreeXL", path: "Shared/CFreeXL", pkgConfig: "freexl", providers: [.apt(["libfreexl-dev"])]),

        // MARK: Libraries
        .target(
            name: "BSON", dependencies: ["CBSON"], path: "Shared/BSON",
            // An encoder or decoder is used by one thread and never hands out overlapping access to
            // its buffer; the run-time exclusivity checks cost more than the encoding itself.
            // Cross-module optimisation lets the services specialise the codec's generic field
            // readers and writers for their own types instead of calling them through witness tables.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"])]
        ),
        .target(
            name: "Mongo",
            dependencies: [
                "BSON", "CMongoC",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Mongo"
        ),
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/AMQP"
        ),
        .target(name: "Templates", path: "Shared/Templates"),
        .target(name: "BounceParsing", path: "Shared/BounceParsing"),
        .target(
            name: "MIME",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto")],
            path: "Shared/MIME"
        ),
        .target(
            name: "SMTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Shared/SMTP"
        ),
        .target(name: "DNS", dependencies: ["CResolv", .product(name: "NIOPosix", package: "swift-nio")], path: "Shared/DNS"),
        .target(name: "Imports", dependencies: ["CFreeXL", .product(name: "ZIPFoundation", package: "ZIPFoundation")], path: "Shared/Imports"),
        .target(
            name: "Contracts",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Shared/Contracts"
        ),
        .target(
            name: "ServiceSupport",
            dependencies: [
                "Mongo", "AMQP", "Contracts",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ServiceSupport"
        ),
        .target(name: "CustomerData", dependencies: ["BSON", "Mongo"], path: "Shared/CustomerData"),
        .target(name: "Audiences", dependencies: ["CustomerData", "BSON", "Mongo"], path: "Shared/Audiences"),
        .target(
            name: "BounceReading",
            dependencies: [
                "BounceParsing", "Tracking", "CustomerData", "Mongo", "AMQP", "Contracts", "ServiceSupport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/BounceReading"
        ),
        .target(
            name: "Tracking",
            dependencies: [
                "AMQP", "Contracts",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/Tracking"
        ),
        .target(
            name: "Campaigns",
            dependencies: [
                "Content", "Audiences", "CustomerData", "DataJobs", "Tracking", "MIME", "Templates", "Mongo", "AMQP", "Contracts", "ServiceSupport", "BSON",
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/Campaigns"
        ),
        .target(
            name: "MailSending",
            dependencies: [
                "SMTP", "DNS", "MIME", "BounceParsing", "CustomerData", "BSON", "Mongo", "AMQP", "Contracts", "ServiceSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/MailSending"
        ),
        .target(
            name: "Content",
            dependencies: [
                "Templates", "CustomerData", "DataJobs", "BSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Shared/Content"
        ),
        .target(
            name: "DataJobs",
            dependencies: [
                "CustomerData", "Audiences", "Imports", "Mongo", "AMQP", "Contracts", "ServiceSupport", "CXLSXWriter", "CPostgres", "CMariaDB",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/DataJobs"
        ),
        .target(
            name: "Security",
            dependencies: [
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/Security"
        ),
        .target(
            name: "LDAP",
            dependencies: ["CLDAP", .product(name: "NIOPosix", package: "swift-nio")],
            path: "Shared/LDAP"
        ),
        .target(
            name: "ControlPanel",
            dependencies: [
                "ServiceSupport", "Security", "LDAP", "Mongo", "CustomerData", "DataJobs", "Imports", "Audiences", "Content", "Templates", "BounceReading", "Tracking",
                "Campaigns", "MailSending", "MIME", "SMTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/ControlPanel",
            resources: [.copy("Resources")]
        ),
        .target(
            name: "HeraldTesting",
            dependencies: ["Mongo", "AMQP", .product(name: "Logging", package: "swift-log")],
            path: "Shared/HeraldTesting"
        ),

        // MARK: Services
        .executableTarget(name: "Control", dependencies: ["ServiceSupport", "ControlPanel"], path: "Services/control"),
        .executableTarget(
            name: "Tracker", dependencies: ["ServiceSupport", "Tracking", "Campaigns", .product(name: "Hummingbird", package: "hummingbird")], path: "Services/tracker"
        ),
        .executableTarget(
            name: "JobServer", dependencies: ["ServiceSupport", "DataJobs", "Campaigns", "Content", "Tracking", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Services/job-server"
        ),
        .executableTarget(name: "MTASender", dependencies: ["ServiceSupport", "MailSending", "SMTP", .product(name: "Hummingbird", package: "hummingbird")], path: "Services/mta-sender"),
        .executableTarget(
            name: "BounceFBLReader", dependencies: ["ServiceSupport", "BounceReading", "Tracking", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Services/bounce-fbl-reader"
        ),

        // MARK: Benchmarks
        .executableTarget(
            name: "HeraldBenchmarks",
            dependencies: [
                "BSON", "Mongo", "AMQP", "Templates", "BounceParsing", "HeraldTesting", "CustomerData", "DataJobs", "Imports", "ControlPanel", "Contracts",
                "Security", "Audiences", "Tracking", "MailSending", "MIME", "ServiceSupport", "Campaigns", "Content",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Benchmarks/HeraldBenchmarks"
        ),

        // MARK: Tests
        .testTarget(name: "BSONTests", dependencies: ["BSON"], path: "Tests/BSONTests"),
        .testTarget(name: "MongoTests", dependencies: ["Mongo", "HeraldTesting"], path: "Tests/MongoTests"),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "HeraldTesting"], path: "Tests/AMQPTests"),
        .testTarget(name: "ContractsTests", dependencies: ["Contracts"], path: "Tests/ContractsTests"),
        .testTarget(name: "BounceParsingTests", dependencies: ["BounceParsing"], path: "Tests/BounceParsingTests", resources: [.copy("Corpus")]),
        .testTarget(name: "MIMETests", dependencies: ["MIME", "HeraldTesting"], path: "Tests/MIMETests"),
        .testTarget(name: "ImportsTests", dependencies: ["Imports"], path: "Tests/ImportsTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "TemplatesTests", dependencies: ["Templates"], path: "Tests/TemplatesTests", resources: [.copy("ReferenceEmail")]),
        .testTarget(
            name: "ContentTests",
            dependencies: ["Content", "Templates", "CustomerData", "HeraldTesting", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Tests/ContentTests", resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "SMTPTests", dependencies: ["SMTP", "DNS", "MIME", "HeraldTesting", .product(name: "NIOCore", package: "swift-nio")], path: "Tests/SMTPTests"),
        .testTarget(
            name: "MailSendingTests",
            dependencies: [
                "MailSending", "Campaigns", "DataJobs", "Audiences", "Content", "Tracking", "BSON", "MIME", "Contracts", "AMQP", "Mongo", "ServiceSupport",
                "CustomerData", "HeraldTesting",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/MailSendingTests"
        ),
        .testTarget(name: "SecurityTests", dependencies: ["Security"], path: "Tests/SecurityTests"),
        .testTarget(
            name: "TrackingTests",
            dependencies: [
                "Tracking", "AMQP", "Contracts", "HeraldTesting",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/TrackingTests"
        ),
        .testTarget(name: "CustomerDataTests", dependencies: ["CustomerData", "HeraldTesting"], path: "Tests/CustomerDataTests"),
        .testTarget(name: "AudiencesTests", dependencies: ["Audiences", "CustomerData", "HeraldTesting"], path: "Tests/AudiencesTests"),
        .testTarget(name: "LDAPTests", dependencies: ["LDAP", "HeraldTesting"], path: "Tests/LDAPTests"),
        .testTarget(
            name: "ControlPanelTests",
            dependencies: [
                "ControlPanel", "HeraldTesting", "DataJobs", "AMQP", "Contracts", "Tracking", "BounceReading", "Campaigns", "MailSending", "ServiceSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/ControlPanelTests"
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: ["ServiceSupport", "HeraldTesting"],
            path: "Tests/ServiceTests"
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
