DROP TABLE IF EXISTS joint_meeting_lists;
