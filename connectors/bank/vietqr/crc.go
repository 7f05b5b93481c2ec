package vietqr

// CRC16CCITTFalse returns the CRC-16/CCITT-FALSE of data (polynomial 0x1021, initial value
// 0xFFFF, no reflection, no final XOR), the checksum EMVCo puts in field 63. The check value
// of "123456789" is 0x29B1.
func CRC16CCITTFalse(data []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, b := range data {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
