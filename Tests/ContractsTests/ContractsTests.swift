import Contracts
import Foundation
import SwiftProtobuf
import Testing

@Suite("Event contracts")
struct ContractsTests {
    func sampleEvent() -> Herald_Events_V1_MessageEvent {
        var e = Herald_Events_V1_MessageEvent()
        e.meta.eventID = "evt-1"
        e.meta.accountID = "acc-1"
        e.meta.producer = "bounce-fbl-reader"
        e.meta.occurredAt = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: 1_700_000_000))
        e.profile.accountID = "acc-1"
        e.profile.databaseID = "db-1"
        e.profile.profileID = "p-1"
        e.kind = .bounced
        e.channel = .email
        e.messageID = "m-1"
        e.bounce.reason = "userunknown"
        e.bounce.hard = true
        e.bounce.smtpCode = 550
        e.bounce.enhancedStatus = "5.1.1"
        return e
    }

    @Test func binaryAndJSONRoundTrip() throws {
        let e = sampleEvent()
        let decoded = try Herald_Events_V1_MessageEvent(serializedBytes: try e.serializedBytes() as [UInt8])
        #expect(decoded == e)
        let json = try e.jsonString()
        #expect(json.contains("\"enhancedStatus\":\"5.1.1\""))
        #expect(try Herald_Events_V1_MessageEvent(jsonString: json) == e)
    }

    @Test func typeNamesAreVersioned() {
        #expect(Herald_Events_V1_MessageEvent.protoMessageName == "herald.events.v1.MessageEvent")
        #expect(Herald_Events_V1_ProfileEvent.protoMessageName == "herald.events.v1.ProfileEvent")
        #expect(Herald_Jobs_V1_JobRequest.protoMessageName == "herald.jobs.v1.JobRequest")
        #expect(Herald_Delivery_V1_EmailDelivery.protoMessageName == "herald.delivery.v1.EmailDelivery")
    }

    @Test func routingKeysFollowTheDocumentedLayout() {
        #expect(BusRoutingKey.message(.bounced) == "message.bounced")
        #expect(BusRoutingKey.profile(.updated) == "profile.updated")
        #expect(BusRoutingKey.job(.succeeded) == "job.succeeded")
        #expect(BusRoutingKey.bulkEmail == "email.bulk")
        #expect(BusRoutingKey.message(.expired) == "message.expired")
        var request = Herald_Jobs_V1_JobRequest()
        #expect(BusRoutingKey.jobRequest(request) == nil)
        request.segmentBuild = .init()
        #expect(BusRoutingKey.jobRequest(request) == "segment.build")
    }

    /// A consumer on v1 keeps the fields a newer producer added, so it can pass them on intact.
    @Test func unknownFieldsFromANewerProducerSurvive() throws {
        var bytes: [UInt8] = try sampleEvent().serializedBytes()
        // Field 99 (varint) = 7: what a later minor version might add.
        bytes += [0x98, 0x06, 0x07]
        let old = try Herald_Events_V1_MessageEvent(serializedBytes: bytes)
        #expect(old.kind == .bounced)
        let again: [UInt8] = try old.serializedBytes()
        #expect(again.suffix(3) == [0x98, 0x06, 0x07])
    }

    /// An enum value this version does not know decodes as UNRECOGNIZED, not as an error.
    @Test func unknownEnumValuesAreKept() throws {
        var e = sampleEvent()
        e.kind = .UNRECOGNIZED(42)
        let back = try Herald_Events_V1_MessageEvent(serializedBytes: try e.serializedBytes() as [UInt8])
        #expect(back.kind == .UNRECOGNIZED(42))
    }
}
