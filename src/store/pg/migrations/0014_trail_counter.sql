-- 14: a second number in change_counter. n moves with every committed
-- transaction that wrote anything but the audit trail; trail with every
-- committed transaction that wrote. A transaction whose only writes extend
-- the audit trail (an audited read: its event and the head) moves trail
-- alone, so other nodes reload their audit head after it, not every cache.
ALTER TABLE change_counter ADD COLUMN trail bigint NOT NULL DEFAULT 0;
UPDATE change_counter SET trail = n;
