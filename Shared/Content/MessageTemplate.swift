import BSON
import CustomerData
import Foundation

/// A message template of an account (settings store, `message_templates`): its channel, the
/// profile database its previews and data come from, and its current content. Every save makes a
/// new ``TemplateVersion``; a campaign keeps the version it was sent with.
public struct MessageTemplate: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var name: String
    public var channel: Subscription.Channel
    /// The profile database its previews and `profile` data come from (optional).
    public var databaseId: String?
    /// The number of the current version (1 on creation).
    public var version: Int
    public var content: MessageContent
    public var createdAt: Date
    public var updatedAt: Date
    public var updatedBy: String

    public init(accountId: String, name: String, channel: Subscription.Channel, databaseId: String?, content: MessageContent, by login: String) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.name = name
        self.channel = channel
        self.databaseId = databaseId
        version = 1
        self.content = content
        createdAt = Date()
        updatedAt = createdAt
        updatedBy = login
    }
}

/// One saved version of a template (settings store, `template_versions`), kept unchanged.
public struct TemplateVersion: Codable, Sendable, Equatable {
    /// `<template id>:<number>`.
    public var _id: String
    public var accountId: String
    public var templateId: String
    public var number: Int
    public var content: MessageContent
    public var createdAt: Date
    public var createdBy: String

    public init(of template: MessageTemplate) {
        _id = "\(template._id):\(template.version)"
        accountId = template.accountId
        templateId = template._id
        number = template.version
        content = template.content
        createdAt = template.updatedAt
        createdBy = template.updatedBy
    }
}
