package dev.trafficbus.export;

/**
 * One packet of a record on its way to the file; the bytes stay in the record value, {@code value[offset, offset+length)}.
 *
 * @param order read order, which breaks ties in capture time so packets of one record keep their order
 */
record ExportPacket(long timestampMicros, boolean clientToServer, byte[] value, int offset, int length,
                    int originalLength, long order) {
}
