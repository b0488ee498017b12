import ServiceSupport

// bounce-fbl-reader: POP3 bounce and feedback-loop mailboxes, DSN and ARF, the stop list.
await HeraldService.main(.bounceFBLReader)
